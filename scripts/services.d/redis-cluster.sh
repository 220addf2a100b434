# shellcheck shell=bash
# `scripts/services cluster up|status|down` (sourced after scripts/lib.sh): a private Redis
# Cluster, 3 masters and 3 replicas on 127.0.0.1:CLUSTER_PORT..+5 (7000-7005), for
# `redis-ops --cluster`. Made with redis-server and redis-cli; ready when `redis-ops --cluster
# ... ping` passes (cluster_state:ok and a round trip to every master).

CLUSTER_PORT=${CLUSTER_PORT:-7000}
CLUSTER_WAIT=${CLUSTER_WAIT:-30}
if ! [[ $CLUSTER_PORT =~ ^[0-9]+$ ]] || [ "$CLUSTER_PORT" -lt 1024 ] || [ "$CLUSTER_PORT" -gt 55530 ]; then
  echo "error: CLUSTER_PORT must be a port between 1024 and 55530" >&2
  exit 2
fi
[[ $CLUSTER_WAIT =~ ^[0-9]+$ ]] || { echo "error: CLUSTER_WAIT must be a number of seconds" >&2; exit 2; }

cluster_ports() { seq "$CLUSTER_PORT" $((CLUSTER_PORT + 5)); }
# cluster_urls: the six nodes as one --cluster argument.
cluster_urls() {
  local p urls=()
  for p in $(cluster_ports); do urls+=("redis://127.0.0.1:$p"); done
  local IFS=,
  printf '%s' "${urls[*]}"
}
cluster_cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>/dev/null; }
cluster_pid() { cat "$STATE_DIR/cluster/$1/redis.pid" 2>/dev/null || true; }

redis_cluster_status() {
  local p role state rc=0 line
  have redis-cli || die "redis-cli is needed (apt-get install redis-tools)"
  for p in $(cluster_ports); do
    if ! cluster_cli "$p" ping | grep -q PONG; then
      echo "cluster   127.0.0.1:$p not answering$(who_listens "$p")"
      rc=1
      continue
    fi
    role=$(cluster_cli "$p" role | head -n 1)
    state=$(cluster_cli "$p" cluster info | grep -o '^cluster_state:[a-z]*' || echo 'no cluster_state')
    echo "cluster   127.0.0.1:$p $role, $state"
    [ "$state" = cluster_state:ok ] || rc=1
  done
  tool_ping redis-ops 0 --cluster "$(cluster_urls)" || rc=1
  for line in "${PING_OK[@]}"; do echo "cluster   $line"; done
  for line in "${PING_ERR[@]}"; do echo "cluster   NOT ready: $line"; done
  return "$rc"
}

redis_cluster_up() {
  local p dir deadline addrs=()
  if ! have redis-server || ! have redis-cli; then
    die "redis-server and redis-cli are needed (scripts/services up installs them)"
  fi
  if redis_cluster_status >/dev/null 2>&1; then
    note "cluster: already up on 127.0.0.1:$CLUSTER_PORT-$((CLUSTER_PORT + 5))"
    redis_cluster_status
    return 0
  fi
  for p in $(cluster_ports); do
    if proc_is "$(cluster_pid "$p")" redis-server; then continue; fi
    if port_open "$p"; then
      die "cluster: 127.0.0.1:$p is taken by something this script did not start$(who_listens "$p")"
    fi
    dir=$STATE_DIR/cluster/$p
    rm -rf "$dir"
    mkdir -p "$dir"
    note "cluster: starting redis-server on 127.0.0.1:$p"
    launch "$dir/start.log" 15 redis-server --daemonize yes --bind 127.0.0.1 --port "$p" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" ||
      die "cluster: redis-server on $p does not start: $(tail -n 1 "$dir/start.log")"
  done
  deadline=$((SECONDS + CLUSTER_WAIT))
  for p in $(cluster_ports); do
    until cluster_cli "$p" ping | grep -q PONG; do
      [ "$SECONDS" -lt "$deadline" ] || die "cluster: 127.0.0.1:$p does not answer after ${CLUSTER_WAIT}s (log: $STATE_DIR/cluster/$p/redis.log)"
      sleep 0.2
    done
    addrs+=("127.0.0.1:$p")
  done
  if [ "$(cluster_cli "$CLUSTER_PORT" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')" != 6 ]; then
    note "cluster: redis-cli --cluster create ${addrs[*]} --cluster-replicas 1"
    timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      >"$STATE_DIR/cluster/create.log" 2>&1 || die "cluster: create failed: $(tail -n 3 "$STATE_DIR/cluster/create.log")"
  fi
  # cluster_state:ok and a round trip to every master, then every replica synced (one that
  # never did cannot take over).
  tool_ping redis-ops "$(((deadline - SECONDS) > 1 ? deadline - SECONDS : 1))" --cluster "$(cluster_urls)" ||
    die "cluster: $(ping_errors)"
  for p in $(cluster_ports); do
    until cluster_cli "$p" info replication | grep -qE '^(role:master|master_link_status:up)'; do
      [ "$SECONDS" -lt "$deadline" ] || die "cluster: the replica on 127.0.0.1:$p is not synced after ${CLUSTER_WAIT}s"
      sleep 0.2
    done
  done
  redis_cluster_status
  echo "cluster   use: redis-ops --cluster redis://127.0.0.1:$CLUSTER_PORT lesson all"
}

redis_cluster_down() {
  local p pid
  for p in $(cluster_ports); do
    pid=$(cluster_pid "$p")
    proc_is "$pid" redis-server || continue
    kill "$pid" 2>/dev/null || true
    stop_pid "$pid" redis-server 100 || die "cluster: redis-server on 127.0.0.1:$p (pid $pid) did not stop"
    echo "cluster   127.0.0.1:$p stopped (pid $pid)"
  done
  rm -rf "$STATE_DIR/cluster"
}
