#!/bin/sh
# Creates the Redis Cluster from six empty nodes (3 masters, 3 replicas), or
# does nothing when the nodes already form one, then waits until every node
# reports `cluster_state:ok` and every replica is in sync with its master.
# Run by the one-shot `redis-cluster-init` service of docker-compose.yml, by
# `npm run stack` and by the redis-cluster-create Job on Kubernetes:
#   create-cluster.sh redis-1:6379 redis-2:6379 ... redis-6:6379
# A password, if any, comes from REDISCLI_AUTH (redis-cli reads it itself).
set -eu

if [ "$#" -ne 6 ]; then
  echo "usage: $0 host:port x6 (3 masters + 3 replicas)" >&2
  exit 2
fi

timeout_s=${CLUSTER_CREATE_TIMEOUT_S:-60}

cli() { # cli host:port args...
  node=$1; shift
  redis-cli -h "${node%:*}" -p "${node##*:}" "$@" | tr -d '\r'
}

known=$(cli "$1" cluster info | sed -n 's/^cluster_known_nodes://p')
if [ "${known:-0}" -gt 1 ]; then
  echo "Redis Cluster already formed ($known nodes known); not creating it again."
else
  # CLUSTER MEET takes IP addresses only (Redis 7.0), so resolve the names
  # here; clients still get hostnames (cluster-preferred-endpoint-type).
  addresses=""
  for node in "$@"; do
    ip=$(getent hosts "${node%:*}" | awk '{ print $1; exit }')
    if [ -z "$ip" ]; then
      echo "cannot resolve ${node%:*}" >&2
      exit 1
    fi
    addresses="$addresses $ip:${node##*:}"
  done
  # shellcheck disable=SC2086 # one word per address
  redis-cli --cluster create $addresses --cluster-replicas 1 --cluster-yes
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
    sleep 0.2
  done
done
echo "Redis Cluster ready: $*"
