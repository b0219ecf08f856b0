#!/bin/sh
# Like the official node image's entrypoint: `docker run image app.js` or
# `docker run image --version` run node; any other command runs as given.
set -e
first=${1-}
if [ "${first#-}" != "$first" ] || ! command -v "$first" >/dev/null 2>&1 || { [ -f "$first" ] && [ ! -x "$first" ]; }; then
  set -- node "$@"
fi
exec "$@"
