# Sourced by redis-start.sh and admin-cli.sh (POSIX sh).
# read_secret NAME prints the secret NAME: the value of the variable NAME, or
# the contents of the file named by NAME_FILE (docker compose secrets and
# Kubernetes Secret volumes are files). The value never goes on a command line.

secret_error() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

read_secret() {
  eval "secret_value=\${$1-}"
  eval "secret_file=\${$1_FILE-}"
  if [ -n "$secret_file" ]; then
    [ -z "$secret_value" ] || secret_error "set $1 or $1_FILE, not both"
    [ -r "$secret_file" ] || secret_error "$1_FILE: cannot read $secret_file"
    secret_value=$(cat "$secret_file")
  fi
  [ -n "$secret_value" ] || secret_error "$1 (or $1_FILE, a file holding it) is not set"
  case $secret_value in
    *[[:space:]\"\'\\]*) secret_error "$1: spaces, quotes and backslashes are not allowed (e.g. openssl rand -hex 32)" ;;
  esac
  [ "${#secret_value}" -ge 16 ] || secret_error "$1: use at least 16 characters (e.g. openssl rand -hex 32)"
  printf '%s' "$secret_value"
}
