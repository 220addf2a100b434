# shellcheck shell=bash
# `scripts/services rabbit-cluster up|status|down` (sourced after scripts/lib.sh): three private
# RabbitMQ nodes lessons-c1..3@localhost on 127.0.0.1:5681-5683 (distribution ports
# 25681-25683), run as this user straight from RabbitMQ's script folder (not the su wrappers),
# with their data, logs, config, the stream plugin (streams on 127.0.0.1:5581-5583) and a shared
# Erlang cookie under the state folder. Ready when `rabbit-ops ping` passes on all three, for
# AMQP and for streams.

RC_PORTS=(5681 5682 5683)
RC_STREAM_PORTS=(5581 5582 5583)
rc_dir() { printf '%s/rabbit-cluster' "$STATE_DIR"; }
rc_node() { printf 'lessons-c%s@localhost' "$1"; }
rc_url() { printf 'amqp://guest:guest@127.0.0.1:%s/%%2f' "${RC_PORTS[$1 - 1]}"; }
rc_stream_url() { printf 'rabbitmq-stream://guest:guest@127.0.0.1:%s/%%2f' "${RC_STREAM_PORTS[$1 - 1]}"; }
rc_bin() {
  local d
  for d in "${RABBITMQ_SCRIPTS_DIR:-}" /usr/lib/rabbitmq/bin "$(dirname "$(readlink -f /usr/sbin/rabbitmq-server 2>/dev/null || echo .)")"; do
    [ -n "$d" ] && [ -x "$d/rabbitmq-server" ] && [ -x "$d/rabbitmqctl" ] && { printf '%s' "$d"; return; }
  done
  die "rabbit-cluster: RabbitMQ is not installed (scripts/services up installs it)"
}
rc_env() { # rc_env I: the environment of node I (call in a subshell)
  local d port=${RC_PORTS[$1 - 1]}
  d=$(rc_dir)/n$1
  export HOME RABBITMQ_NODENAME RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port \
    RABBITMQ_DIST_PORT=$((port + 20000)) RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log \
    RABBITMQ_PID_FILE=$d/node.pid RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins \
    RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf \
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
  HOME=$(rc_dir) RABBITMQ_NODENAME=$(rc_node "$1")
}
rc_ctl() { local i=$1; shift; (rc_env "$i"; timeout 90 "$(rc_bin)/rabbitmqctl" -n "$(rc_node "$i")" "$@" </dev/null); }
rc_pid() { cat "$(rc_dir)/n$1/node.pid" 2>/dev/null || true; }

rabbit_cluster_status() {
  local i rc=0 running
  for i in 1 2 3; do
    if tool_ping rabbit-ops 0 --url "$(rc_url "$i")"; then
      running=$(rc_ctl "$i" -q eval 'length(rabbit_mnesia:cluster_nodes(running)).' 2>/dev/null || echo '?')
      echo "rabbit-cluster  $(rc_node "$i")  ${PING_OK[*]}; $running running node(s) in its cluster"
      [ "$running" = 3 ] || rc=1
    else
      echo "rabbit-cluster  $(rc_node "$i")  NOT ready: $(ping_errors)"
      rc=1
    fi
  done
  return "$rc"
}

rabbit_cluster_up() {
  local i d bin port
  bin=$(rc_bin)
  mkdir -p "$(rc_dir)"
  if [ ! -f "$(rc_dir)/.erlang.cookie" ]; then
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$(rc_dir)/.erlang.cookie"
    chmod 400 "$(rc_dir)/.erlang.cookie"
  fi
  for i in 1 2 3; do
    d=$(rc_dir)/n$i port=${RC_PORTS[$i - 1]}
    if proc_is "$(rc_pid "$i")" beam.smp; then continue; fi
    if port_open "$port"; then
      die "rabbit-cluster: 127.0.0.1:$port is taken by something this script did not start$(who_listens "$port")"
    fi
    mkdir -p "$d"
    printf '[rabbitmq_stream].\n' >"$d/enabled_plugins"
    : >"$d/rabbitmq-env.conf"
    printf 'listeners.tcp.1 = 127.0.0.1:%s\nstream.listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\n' \
      "$port" "${RC_STREAM_PORTS[$i - 1]}" >"$d/rabbitmq.conf"
    note "rabbit-cluster: starting $(rc_node "$i") on 127.0.0.1:$port (log: $d/server.out)"
    (close_fds; rc_env "$i"; cd / && exec setsid "$bin/rabbitmq-server") </dev/null >>"$d/server.out" 2>&1 &
  done
  tool_ping rabbit-ops "$RABBITMQ_WAIT" --url "$(rc_url 1)" --url "$(rc_url 2)" --url "$(rc_url 3)" ||
    die "rabbit-cluster: $(ping_errors) (logs: $(rc_dir)/n*/server.out)"
  for i in 2 3; do
    if ! rc_ctl "$i" -q eval "lists:member('$(rc_node 1)', rabbit_mnesia:cluster_nodes(all))." 2>/dev/null | grep -qx true; then
      note "rabbit-cluster: $(rc_node "$i") joins $(rc_node 1) (stop_app, reset, join_cluster, start_app)"
      if ! { rc_ctl "$i" -q stop_app && rc_ctl "$i" -q reset && rc_ctl "$i" -q join_cluster "$(rc_node 1)" \
        && rc_ctl "$i" -q start_app; } >>"$(rc_dir)/n$i/join.log" 2>&1; then
        die "rabbit-cluster: $(rc_node "$i") could not join $(rc_node 1): $(tail -n 1 "$(rc_dir)/n$i/join.log")"
      fi
    fi
  done
  tool_ping rabbit-ops "$RABBITMQ_WAIT" --url "$(rc_stream_url 1)" --url "$(rc_stream_url 2)" --url "$(rc_stream_url 3)" ||
    die "rabbit-cluster: streams: $(ping_errors) (logs: $(rc_dir)/n*/server.out)"
  rabbit_cluster_status
  echo "rabbit-cluster  use: rabbit-ops --url $(rc_url 1) --url $(rc_url 2) --url $(rc_url 3) worker --quorum"
  echo "rabbit-cluster  streams: rabbit-ops --url $(rc_stream_url 1) stream-send (127.0.0.1:5581-5583)"
}

rabbit_cluster_down() {
  local i pid
  for i in 3 2 1; do
    pid=$(rc_pid "$i")
    proc_is "$pid" beam.smp || continue
    rc_ctl "$i" -q stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    stop_pid "$pid" beam.smp 200 || die "rabbit-cluster: $(rc_node "$i") (pid $pid) did not stop"
    echo "rabbit-cluster  $(rc_node "$i") stopped (pid $pid)"
  done
  rm -rf "$(rc_dir)"
}
