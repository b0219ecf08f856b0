#!/bin/sh
# Creates the Redis Cluster from six empty nodes (3 masters, 3 replicas), or
# does nothing when the nodes already form one, then waits until every node
# reports `cluster_state:ok` and every replica is in sync with its master.
# Run by the one-shot `redis-cluster-init` service of docker-compose.yml, by
# `npm run stack` and by the redis-cluster-create Job on Kubernetes:
#   create-cluster.sh redis-1:6379 redis-2:6379 ... redis-6:6379
# It logs in as the admin user (admin-cli.sh: REDIS_ADMIN_PASSWORD or
# REDIS_ADMIN_PASSWORD_FILE).
set -eu

here=$(dirname "$0")
admin_cli="$here/admin-cli.sh"
. "$here/read-secret.sh"
# Fail now, with its message, rather than inside the pipelines below.
read_secret REDIS_ADMIN_PASSWORD >/dev/null

if [ "$#" -ne 6 ]; then
  echo "usage: $0 host:port x6 (3 masters + 3 replicas)" >&2
  exit 2
fi

timeout_s=${CLUSTER_CREATE_TIMEOUT_S:-60}

cli() { # cli host:port args...
  node=$1; shift
  sh "$admin_cli" -h "${node%:*}" -p "${node##*:}" "$@" | tr -d '\r'
}

# CLUSTER MEET takes IP addresses only (Redis 7.0), so the names are resolved
# here; clients still get hostnames (cluster-preferred-endpoint-type).
ip_of() { # ip_of host:port
  ip=$(getent hosts "${1%:*}" | awk '{ print $1; exit }')
  if [ -z "$ip" ]; then
    echo "cannot resolve ${1%:*}" >&2
    exit 1
  fi
  echo "$ip"
}

# A replica whose master moved, and that learned the new address from another
# node's gossip rather than from the master itself, keeps replicating from
# the old one (Redis 7.0): point it at its master again.
follow_master() { # follow_master host:port
  view=$(cli "$1" cluster nodes)
  master_id=$(echo "$view" | awk '$3 ~ /myself/ && $3 ~ /slave/ { print $4 }')
  [ -n "$master_id" ] || return 0
  master_ip=$(echo "$view" | awk -v id="$master_id" '$1 == id { sub(/:.*/, "", $2); print $2 }')
  linked_ip=$(cli "$1" info replication | sed -n 's/^master_host://p')
  if [ -n "$master_ip" ] && [ "$master_ip" != "$linked_ip" ]; then
    cli "$1" cluster replicate "$master_id" >/dev/null
  fi
}

known=$(cli "$1" cluster info | sed -n 's/^cluster_known_nodes://p')
if [ "${known:-0}" -gt 1 ]; then
  echo "Redis Cluster already formed ($known nodes known); not creating it again."
  # Nodes that restarted look for each other at the addresses in their
  # nodes.conf; containers and pods made anew get new ones. Introduce every
  # node to every other at its address now: a node already linked there
  # ignores it, one that moved is found again, with its data and its place in
  # the cluster (a replica follows its master to the new address).
  for from in "$@"; do
    for to in "$@"; do
      [ "$from" = "$to" ] && continue
      cli "$from" cluster meet "$(ip_of "$to")" "${to##*:}" >/dev/null
    done
  done
else
  addresses=""
  for node in "$@"; do
    addresses="$addresses $(ip_of "$node"):${node##*:}"
  done
  # shellcheck disable=SC2086 # one word per address
  sh "$admin_cli" --cluster create $addresses --cluster-replicas 1 --cluster-yes
fi

deadline=$(( $(date +%s) + timeout_s ))
for node in "$@"; do
  until cli "$node" cluster info | grep -q '^cluster_state:ok'; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$node: cluster_state not ok after ${timeout_s}s" >&2; exit 1; }
    sleep 0.2
  done
  # A replica that has not finished its first sync cannot take over yet.
  until ! cli "$node" info replication | grep -q '^role:slave' \
      || cli "$node" info replication | grep -q '^master_link_status:up'; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$node: replica not in sync after ${timeout_s}s" >&2; exit 1; }
    follow_master "$node"
    sleep 0.2
  done
done
echo "Redis Cluster ready: $*"
