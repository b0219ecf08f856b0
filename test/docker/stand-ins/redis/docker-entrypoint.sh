#!/bin/sh
# Behaves like the official redis image's entrypoint: options or a *.conf
# file as the first argument mean redis-server; redis-server started as root
# gets the working directory (/data) handed to the redis user and runs as that
# user, with a private umask.
set -e
first=${1-}
if [ "${first#-}" != "$first" ] || [ "${first%.conf}" != "$first" ]; then
  set -- redis-server "$@"
fi
if [ "${1-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . ! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
umask 0077
exec "$@"
