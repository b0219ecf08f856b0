#!/bin/sh
# The official nginx image's entrypoint runs the scripts in
# /docker-entrypoint.d/ (IPv6 listen, templates, worker tuning) before starting
# nginx; none of them touch a configuration that replaces nginx.conf, as the
# compose file's does, so this stand-in only runs the command.
set -e
exec "$@"
