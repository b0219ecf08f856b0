#!/bin/sh
# redis-cli logged in as the admin user, its password read from
# REDIS_ADMIN_PASSWORD or REDIS_ADMIN_PASSWORD_FILE and handed over in
# REDISCLI_AUTH (never on the command line). Health checks and
# create-cluster.sh use it; so can you:
#   docker compose exec redis sh /usr/local/etc/redis/admin-cli.sh info memory
set -eu
. "$(dirname "$0")/read-secret.sh"
REDISCLI_AUTH=$(read_secret REDIS_ADMIN_PASSWORD)
export REDISCLI_AUTH
exec redis-cli --user admin "$@"
