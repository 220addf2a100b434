# shellcheck shell=bash
# RabbitMQ on 127.0.0.1:5672 (guest/guest) for scripts/services (sourced after scripts/lib.sh):
# reuse, install, start (as root), check with `rabbit-ops ping`, stop. With AMQP_URL set, only
# checks it (rabbit-ops reads it, several URLs separated by commas). Streams (the rabbitmq_stream
# plugin, 127.0.0.1:5552) are enabled on the local node and checked with the stream ping.

if [ -n "${AMQP_URL:-}" ]; then
  RABBIT_TARGET=()
else
  RABBIT_TARGET=(--url amqp://guest:guest@127.0.0.1:5672/%2f)
fi
RABBIT_LOG_DIR=/var/log/rabbitmq
RABBIT_METHOD='' RABBIT_STARTED_AT=0 NODE=''

# rabbit_ping WAIT: tool_ping with rabbit-ops.
rabbit_ping() { tool_ping rabbit-ops "$1" "${RABBIT_TARGET[@]}"; }

# Streams (issue 20): the rabbitmq_stream plugin's port, 127.0.0.1:5552 (or RABBITMQ_STREAM_URL),
# checked with the stream round trip of `rabbit-ops --url rabbitmq-stream://... ping`.
STREAM_URL_USED=${RABBITMQ_STREAM_URL:-rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f}
rabbit_stream_ping() { tool_ping rabbit-ops "$1" --url "$STREAM_URL_USED"; }

rabbit_status() {
  local rc=0
  service_status rabbitmq rabbit_ping AMQP_URL rabbitmq beam.smp 5672 || rc=1
  service_status streams rabbit_stream_ping RABBITMQ_STREAM_URL rabbitmq beam.smp 5552 || rc=1
  return "$rc"
}

# rabbit_streams: makes the local node serve streams. `rabbitmq-plugins enable` is idempotent and
# works on a running node; a broker named by AMQP_URL or RABBITMQ_STREAM_URL is only checked.
rabbit_streams() {
  rabbit_stream_ping 0 && return 0
  if [ -n "${AMQP_URL:-}${RABBITMQ_STREAM_URL:-}" ]; then
    rabbit_stream_ping 30 && return 0
    die "RabbitMQ streams do not answer at ${STREAM_URL_USED%%@*}@... ($(ping_errors)): enable them on that broker (rabbitmq-plugins enable rabbitmq_stream), or set RABBITMQ_STREAM_URL"
  fi
  [ "$IS_ROOT" = 1 ] || die "RabbitMQ's stream plugin is off: as root run rabbitmq-plugins enable rabbitmq_stream (or sudo scripts/services up)"
  rabbit_node
  note "rabbitmq: enabling the rabbitmq_stream plugin on node $NODE (streams on 127.0.0.1:5552)"
  # A running node read its configuration at boot: the loopback listener is set in the plugin's
  # environment first (the plugin's own default is every interface).
  grep -qs '^[[:space:]]*stream\.listeners' /etc/rabbitmq/rabbitmq.conf ||
    timeout 60 rabbitmqctl -q -n "$NODE" eval 'application:set_env(rabbitmq_stream, tcp_listeners, [{"127.0.0.1", 5552}], [{persistent, true}]).' </dev/null >>"$STATE_DIR/rabbitmq-start.log" 2>&1 ||
    die "could not set the stream listener to 127.0.0.1:5552 on node $NODE: $(tail -n 1 "$STATE_DIR/rabbitmq-start.log")"
  timeout 120 rabbitmq-plugins -q -n "$NODE" enable rabbitmq_stream </dev/null >>"$STATE_DIR/rabbitmq-start.log" 2>&1 ||
    die "rabbitmq-plugins enable rabbitmq_stream failed: $(tail -n 1 "$STATE_DIR/rabbitmq-start.log")"
  rabbit_stream_ping 60 || die "RabbitMQ streams do not answer on 127.0.0.1:5552 after enabling the plugin: $(ping_errors)"
}

# (erlang-* and epmd left behind by a purge do not count; the wrapper in /usr/sbin does)
rabbit_installed() { have rabbitmq-server; }

rabbit_plan() {
  service_plan rabbit_ping AMQP_URL rabbitmq beam.smp 5672 "$RABBITMQ_WAIT" RabbitMQ \
    "a RabbitMQ without the guest user: as root run rabbitmqctl add_user guest guest; rabbitmqctl set_permissions -p / guest '.*' '.*' '.*'; or set AMQP_URL"
  # Before anything is started: without root, a missing package is reported by install_packages.
  if [ "$START" = 1 ] && [ "$IS_ROOT" != 1 ] && rabbit_installed; then
    die "RabbitMQ is installed but does not answer on 127.0.0.1:5672, and starting it needs root: run sudo scripts/services up (or sudo rabbitmq-server -detached)"
  fi
  [ "$START" = 1 ] || rabbit_streams
}

rabbit_packages() { rabbit_installed || PKGS+=(rabbitmq-server); }

# rabbit_node: sets NODE, the node name rabbitmq-server and rabbitmqctl will use. In a container
# the host name often does not resolve, and then the node cannot start; as root, pin the node
# to rabbit@localhost in rabbitmq-env.conf (what this machine image does too).
rabbit_node() {
  local conf=/etc/rabbitmq/rabbitmq-env.conf host
  NODE=${RABBITMQ_NODENAME:-}
  [ -n "$NODE" ] || NODE=$(sed -nE 's/^[[:space:]]*(export[[:space:]]+)?(RABBITMQ_)?NODENAME=["'\'']?([^"'\'' ]*).*/\3/p' "$conf" 2>/dev/null | tail -n 1)
  if [ -z "$NODE" ]; then
    host=$(hostname -s 2>/dev/null || uname -n)
    NODE=rabbit@${host%%.*}
    if [ -z "${host%%.*}" ] || ! getent hosts "${host%%.*}" >/dev/null 2>&1; then
      if [ "$IS_ROOT" = 1 ]; then
        mkdir -p /etc/rabbitmq
        printf '\n# Added by scripts/services: the host name "%s" does not resolve.\nNODENAME=rabbit@localhost\n' \
          "$host" >>"$conf"
        note "rabbitmq: the host name '$host' does not resolve; pinned NODENAME=rabbit@localhost in $conf"
        NODE=rabbit@localhost
      fi
    fi
  fi
  [[ $NODE == *@* ]] || NODE=$NODE@$(hostname -s 2>/dev/null || uname -n)
}

# rabbit_prepare (root): directories the package normally creates, and an Erlang cookie that the
# rabbitmq user owns and only it can read (Erlang refuses any other, and then the CLI tools cannot
# talk to the node).
rabbit_prepare() {
  local d c=/var/lib/rabbitmq/.erlang.cookie conf=/etc/rabbitmq/rabbitmq.conf
  getent passwd rabbitmq >/dev/null || die "RabbitMQ is installed but the 'rabbitmq' user is missing: reinstall it (apt-get install --reinstall rabbitmq-server)"
  for d in /var/lib/rabbitmq /var/lib/rabbitmq/mnesia "$RABBIT_LOG_DIR"; do
    [ -d "$d" ] || { mkdir -p "$d"; note "rabbitmq: created $d"; }
    if [ -n "$(find "$d" -maxdepth 1 ! -user rabbitmq -print -quit 2>/dev/null)" ]; then
      chown -R rabbitmq:rabbitmq "$d"
    fi
  done
  if [ -e "$c" ] && [ "$(stat -c '%U %a' "$c")" != "rabbitmq 400" ] && [ "$(stat -c '%U %a' "$c")" != "rabbitmq 600" ]; then
    chown rabbitmq:rabbitmq "$c"
    chmod 400 "$c"
    note "rabbitmq: fixed owner/mode of $c (Erlang wants rabbitmq, 0400)"
  fi
  # Streams: the plugin on from the start, its listener on loopback only (its default is every
  # interface), unless the configuration already says where.
  if ! grep -qs '^[[:space:]]*stream\.listeners' "$conf"; then
    mkdir -p /etc/rabbitmq
    printf '\n# Added by scripts/services: RabbitMQ streams on loopback only.\nstream.listeners.tcp.1 = 127.0.0.1:5552\n' >>"$conf"
    note "rabbitmq: streams listen on 127.0.0.1:5552 (stream.listeners.tcp.1 in $conf)"
  fi
  timeout 60 rabbitmq-plugins -q --offline enable rabbitmq_stream </dev/null >/dev/null 2>&1 || true
}

rabbit_vm_pid() {
  have pgrep || return 0
  pgrep -u rabbitmq -x beam.smp 2>/dev/null | head -n 1 || true
}
rabbit_node_pings() { timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1; }
rabbit_eval_true() { timeout 20 rabbitmqctl -q eval "$1" 2>/dev/null | grep -qx true; }

rabbit_start() {
  local vm='' log=$STATE_DIR/rabbitmq-start.log deadline said=0
  rabbit_node
  rabbit_prepare
  RABBIT_STARTED_AT=$SECONDS
  # A VM of user rabbitmq may run while 5672 is closed: a node still booting, one whose app was
  # stopped (rabbitmqctl stop_app), one that is stopping (rabbitmqctl stop returns before the VM
  # exits), or one this node name or Erlang cookie cannot reach. Sort it out, bounded.
  deadline=$((SECONDS + 30))
  while vm=$(rabbit_vm_pid) && [ -n "$vm" ]; do
    if rabbit_ping 0; then RABBIT_METHOD=found; return 0; fi
    if rabbit_node_pings; then
      if rabbit_eval_true 'rabbit:is_booting().'; then
        note "rabbitmq: node $NODE (pid $vm) is booting; waiting for it"
        RABBIT_METHOD=found
        return 0
      fi
      if rabbit_eval_true 'rabbit:is_running().'; then
        rabbit_ping 0 && { RABBIT_METHOD=found; return 0; }
        die "RabbitMQ node $NODE runs (pid $vm) but does not answer on 127.0.0.1:5672 ($(ping_errors)): check listeners.tcp in /etc/rabbitmq/rabbitmq.conf, or set AMQP_URL"
      fi
      note "rabbitmq: node $NODE (pid $vm) runs with its app stopped (stale); rabbitmqctl start_app"
      if ! timeout 120 rabbitmqctl -q start_app </dev/null >>"$log" 2>&1 9>&-; then
        sleep 2
        # A node that was stopping (app down, VM about to exit) cannot start its app: start anew.
        proc_is "$vm" beam.smp || continue
        die "rabbitmqctl start_app failed on node $NODE: $(tail -n 1 "$log")"
      fi
      RABBIT_METHOD=start_app
      return 0
    fi
    if [ "$said" = 0 ]; then
      note "rabbitmq: an Erlang VM of user rabbitmq runs (pid $vm) but node $NODE does not answer (yet); waiting up to 30s for it to boot or exit"
      said=1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "an Erlang VM of user rabbitmq (pid $vm) runs but answers neither AMQP on 127.0.0.1:5672 nor rabbitmqctl as node $NODE (node name or Erlang cookie mismatch?); stop it (kill $vm) and run this again"
    fi
    sleep 1
  done
  if systemd_runs && systemctl cat rabbitmq-server.service >/dev/null 2>&1; then
    note "rabbitmq: systemctl start rabbitmq-server (node $NODE)"
    timeout "$((RABBITMQ_WAIT + 30))" systemctl start rabbitmq-server.service || die "systemctl start rabbitmq-server failed: see journalctl -u rabbitmq-server"
    RABBIT_METHOD=systemctl
    return 0
  fi
  note "rabbitmq: starting rabbitmq-server -detached (node $NODE; boots in 10-60s; log: $RABBIT_LOG_DIR/$NODE.log)"
  if launch "$log" 60 rabbitmq-server -detached; then
    RABBIT_METHOD=direct
  elif [ -x /etc/init.d/rabbitmq-server ] && have service; then
    note "rabbitmq: rabbitmq-server -detached failed ($(tail -n 1 "$log")); trying: service rabbitmq-server start"
    launch "$log" 180 service rabbitmq-server start ||
      die "RabbitMQ does not start: $(tail -n 1 "$log") (see $RABBIT_LOG_DIR/$NODE.log)"
    RABBIT_METHOD=service
  else
    die "rabbitmq-server -detached failed: $(tail -n 1 "$log")"
  fi
}

# rabbit_settle: waits in steps of at most 5 s, so that a node that died while booting is
# reported now instead of after the whole RABBITMQ_WAIT.
rabbit_settle() {
  local deadline=$((RABBIT_STARTED_AT + RABBITMQ_WAIT)) step last pid
  while :; do
    step=$((deadline - SECONDS))
    [ "$step" -le 5 ] || step=5
    [ "$step" -ge 1 ] || step=1
    rabbit_ping "$step" && break
    if { [ "$RABBIT_METHOD" = direct ] || [ "$RABBIT_METHOD" = found ]; } &&
      [ $((SECONDS - RABBIT_STARTED_AT)) -ge 15 ] && [ -z "$(rabbit_vm_pid)" ]; then
      last=$(grep -hiE 'error|crash|fail' "$RABBIT_LOG_DIR/$NODE.log" "$STATE_DIR/rabbitmq-start.log" 2>/dev/null | tail -n 1 | cut -c 1-200 || true)
      die "rabbitmq-server (node $NODE) exited while booting${last:+: $last}; see $RABBIT_LOG_DIR/$NODE.log (Erlang cookie, host name, or disk space?)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "RabbitMQ (node $NODE) does not answer within ${RABBITMQ_WAIT}s: $(ping_errors); see $RABBIT_LOG_DIR/$NODE.log"
    fi
    sleep 0.5
  done
  # "found": a node someone else started came up by itself (not recorded); start_app on a node
  # this script started keeps its record (down then stops the whole node, as before).
  case $RABBIT_METHOD in
    found) rabbit_streams; return 0 ;;
    start_app) ! ours rabbitmq beam.smp || { rabbit_streams; return 0; } ;;
  esac
  pid=$(listener_pid 5672)
  [ -n "$pid" ] || pid=$(cat "/var/lib/rabbitmq/mnesia/$NODE.pid" 2>/dev/null || true)
  [ -n "$pid" ] || pid=$(rabbit_vm_pid)
  state_put rabbitmq "method=$RABBIT_METHOD" "pid=$pid" "node=$NODE"
  rabbit_streams
}

rabbit_down() {
  local pid method node
  if [ -n "${AMQP_URL:-}" ]; then
    echo "rabbitmq  left alone (AMQP_URL is set)"
    return 0
  fi
  if ! ours rabbitmq beam.smp; then
    state_drop rabbitmq
    echo "rabbitmq  left alone (not started by scripts/services)"
    return 0
  fi
  [ "$IS_ROOT" = 1 ] || die "stopping RabbitMQ needs root: sudo scripts/services down"
  pid=$(state_get rabbitmq pid) method=$(state_get rabbitmq method) node=$(state_get rabbitmq node)
  [ -z "$node" ] || export RABBITMQ_NODENAME=$node
  case $method in
    start_app)
      timeout 60 rabbitmqctl -q stop_app >/dev/null 2>&1 || die "rabbitmqctl stop_app failed on node $node"
      state_drop rabbitmq
      echo "rabbitmq  app stopped on node $node (its app was started by scripts/services; the node was already running)"
      return 0 ;;
    systemctl) timeout 120 systemctl stop rabbitmq-server.service || true ;;
    service) timeout 120 service rabbitmq-server stop >/dev/null 2>&1 || true ;;
    *) timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true ;;
  esac
  if ! gone "$pid" beam.smp 300; then
    kill -TERM "$pid" 2>/dev/null || true
    gone "$pid" beam.smp 300 || die "RabbitMQ (node $node, pid $pid) did not stop within 60s"
  fi
  state_drop rabbitmq
  echo "rabbitmq  stopped (node $node, pid $pid, started by scripts/services)"
}
