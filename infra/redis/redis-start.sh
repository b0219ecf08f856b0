#!/bin/sh
# Starts redis-server with this project's users, written at start from the
# secrets, so no password is ever on a command line (ps, docker inspect, the
# pod spec):
#   default  disabled: every client logs in as one of the users below. It
#            keeps every permission because Redis 7.0 checks the MULTI/EXEC
#            blocks in the append-only file against it when it loads the file
#            (a script's writes are logged that way): a restricted `default`
#            would lose them. Disabled, no connection can use it.
#   admin    every command: health checks, cluster creation, replication, you
#   app      the app: its key prefixes and the commands it needs (app-user.acl)
# Passwords: REDIS_ADMIN_PASSWORD and REDIS_APP_PASSWORD, each as a variable
# or as a file named by REDIS_ADMIN_PASSWORD_FILE / REDIS_APP_PASSWORD_FILE.
# The users go into $REDIS_RUN_DIR/users.conf (default /run/redis, memory-backed
# in compose and Kubernetes; owner-only), loaded after every argument:
#   redis-start.sh /path/redis.conf [--include redis-cluster.conf] [--option value ...]
set -eu

here=$(dirname "$0")
. "$here/read-secret.sh"

admin_password=$(read_secret REDIS_ADMIN_PASSWORD)
app_password=$(read_secret REDIS_APP_PASSWORD)
[ "$admin_password" != "$app_password" ] || secret_error "REDIS_ADMIN_PASSWORD and REDIS_APP_PASSWORD must differ"

app_rules=$(sed -e 's/#.*//' "$here/app-user.acl" | tr -s ' \t\n' '   ')
[ -n "${app_rules## }" ] || secret_error "$here/app-user.acl holds no rules"

# The ACL stores SHA-256 digests (#...), never the passwords themselves.
sha256() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }

run_dir=${REDIS_RUN_DIR:-/run/redis}
umask 077
mkdir -p "$run_dir"
users=$run_dir/users.conf
cat >"$users.tmp" <<USERS
user default off resetpass ~* &* +@all
user admin on #$(sha256 "$admin_password") ~* &* +@all
user app on #$(sha256 "$app_password") $app_rules
# A replica logs in to its master as admin.
masteruser admin
masterauth $admin_password
USERS
mv "$users.tmp" "$users"

exec redis-server "$@" --include "$users"
