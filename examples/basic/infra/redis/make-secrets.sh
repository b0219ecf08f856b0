#!/bin/sh
# Writes the passwords of the Redis users (see redis-start.sh), one random
# value per file, into a secrets directory (default: ./secrets, which
# docker-compose.yml mounts as compose secrets):
#   secrets/redis-admin-password   secrets/redis-app-password
# A file that exists is kept. The directory is its owner's only; the files are
# readable by all, because compose bind-mounts them as they are into containers
# that run as other users (redis, node).
#   sh infra/redis/make-secrets.sh [dir]
set -eu

dir=${1:-secrets}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
for user in admin app; do
  file="$dir/redis-$user-password"
  if [ -s "$file" ]; then
    echo "$file exists; kept"
    continue
  fi
  # 32 random bytes as 64 hex characters.
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$file"
  echo >>"$file"
  chmod 644 "$file"
  echo "$file written"
done
