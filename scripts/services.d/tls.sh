# shellcheck shell=bash
# `scripts/services tls up|status|down` (sourced after scripts/lib.sh): a private TLS Redis on
# 127.0.0.1:6390 and a private RabbitMQ node with an SSL listener on 127.0.0.1:5671, both
# presenting a server certificate (IP:127.0.0.1, DNS:localhost) signed by a CA made with openssl
# under target/tls/ (kept by `down`), so that `redis-ops --url rediss://... --cacert ...` and
# `rabbit-ops --url amqps://... --cacert ...` can be tried. Both accept, and do not require, the
# client certificate made beside it; the node also serves streams over TLS on 127.0.0.1:5551
# (`rabbit-ops --url rabbitmq-stream+tls://...`). Ready when the tools' own `ping` passes. The machine's
# Redis (6379) and RabbitMQ (5672) are never touched: a process is this script's only when it
# works from its folder under target/tls/ (checked in /proc before anything is stopped).

# shellcheck source=scripts/services.d/rabbit-cluster.sh
source "$ROOT/scripts/services.d/rabbit-cluster.sh" # rc_bin: where RabbitMQ's scripts are

TLS_DIR=$TARGET/tls
TLS_REDIS_PORT=6390 TLS_REDIS_WAIT=30
TLS_RABBIT_PORT=5671 TLS_RABBIT_AMQP_PORT=5679 TLS_RABBIT_DIST_PORT=25679 TLS_STREAM_PORT=5551
TLS_NODE=lessons-tls@localhost
TLS_REDIS_URL=rediss://127.0.0.1:$TLS_REDIS_PORT
TLS_RABBIT_URL=amqps://127.0.0.1:$TLS_RABBIT_PORT/%2f
TLS_STREAM_URL=rabbitmq-stream+tls://127.0.0.1:$TLS_STREAM_PORT/%2f
TLS_FILES=(ca.pem ca.key server.pem server.key client.pem client.key)

# tls_show PATH: PATH relative to the repository when run from there (target/tls/ca.pem).
tls_show() { if [ "$PWD" = "$ROOT" ]; then printf '%s' "${1#"$ROOT"/}"; else printf '%s' "$1"; fi; }

# ---- certificates ----

# tls_key_matches NAME: NAME.pem holds NAME.key's public key, and is valid for a day more.
tls_key_matches() {
  local c=$TLS_DIR/$1.pem k=$TLS_DIR/$1.key a b
  [ -s "$c" ] && [ -s "$k" ] || return 1
  openssl x509 -noout -checkend 86400 -in "$c" >/dev/null 2>&1 || return 1
  a=$(openssl x509 -noout -pubkey -in "$c" 2>/dev/null) && b=$(openssl pkey -pubout -in "$k" 2>/dev/null) &&
    [ -n "$a" ] && [ "$a" = "$b" ]
}
# tls_leaf_ok NAME: as tls_key_matches, and signed by ca.pem for its purpose.
tls_leaf_ok() {
  tls_key_matches "$1" &&
    openssl verify -CAfile "$TLS_DIR/ca.pem" -purpose "ssl$1" "$TLS_DIR/$1.pem" >/dev/null 2>&1
}

tls_conf() {
  cat <<'CNF'
# Written by scripts/services tls up: the extensions of the certificates beside it.
[req]
distinguished_name = dn
prompt = no
[dn]
CN = lessons test CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
}

# tls_key NAME: a new P-256 key NAME.key (PKCS#8), mode 600.
tls_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS_DIR/$1.key.new") &&
    chmod 600 "$TLS_DIR/$1.key.new" && mv -f "$TLS_DIR/$1.key.new" "$TLS_DIR/$1.key"
}

# tls_leaf NAME CN: a new key and certificate NAME.key/NAME.pem signed by the CA (825 days).
tls_leaf() {
  local d=$TLS_DIR
  tls_key "$1" &&
    openssl req -new -config "$d/openssl.cnf" -key "$d/$1.key" -subj "/CN=$2" -out "$d/$1.csr" &&
    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
      -extfile "$d/openssl.cnf" -extensions "$1" -out "$d/$1.pem" 2>/dev/null &&
    rm -f "$d/$1.csr"
}

# tls_certs: makes what is missing or unusable under target/tls/ (a new CA makes new server and
# client certificates too). TLS_NEW=1 when something was made.
tls_certs() {
  local d=$TLS_DIR log=$TLS_DIR/openssl.log name
  TLS_NEW=0
  have openssl || die "tls: openssl is needed (apt-get install openssl; scripts/setup installs it)"
  mkdir -p "$d"
  if tls_key_matches ca && tls_leaf_ok server && tls_leaf_ok client; then
    note "tls: reusing the CA and certificates in $(tls_show "$d")/"
    return 0
  fi
  tls_conf >"$d/openssl.cnf"
  : >"$log"
  if ! tls_key_matches ca; then
    note "tls: making a CA (openssl; $(tls_show "$d")/ca.pem, ca.key)"
    { tls_key ca && openssl req -x509 -new -config "$d/openssl.cnf" -extensions ca -key "$d/ca.key" \
      -subj "/CN=lessons test CA $(date -u +%Y-%m-%d)" -days 3650 -sha256 -out "$d/ca.pem"; } >>"$log" 2>&1 ||
      die "tls: openssl could not make the CA: $(tail -n 1 "$log") (log: $log)"
    rm -f "$d/server.pem" "$d/client.pem"
  fi
  for name in server client; do
    tls_leaf_ok "$name" && continue
    note "tls: making the $name certificate ($(tls_show "$d")/$name.pem, $name.key)"
    if [ "$name" = server ]; then
      tls_leaf server localhost >>"$log" 2>&1
    else
      tls_leaf client lessons-client >>"$log" 2>&1
    fi || die "tls: openssl could not make the $name certificate: $(tail -n 1 "$log") (log: $log)"
    tls_leaf_ok "$name" || die "tls: the new $name certificate does not verify against ca.pem (log: $log)"
  done
  chmod 644 "$d"/*.pem
  [ -s "$log" ] || rm -f "$log"
  TLS_NEW=1
}

# ---- the servers: a process is this script's only when it works in (or from) our folder ----

tls_redis_dir() { printf '%s/redis' "$TLS_DIR"; }
tls_rabbit_dir() { printf '%s/rabbit' "$TLS_DIR"; }
# tls_redis_pid / tls_rabbit_pid: the pid of the running server this script started, or nothing
# (a redis-server working in our folder; a beam.smp whose Erlang home is our folder).
tls_redis_pid() {
  local d pid
  d=$(tls_redis_dir)
  pid=$(cat "$d/redis.pid" 2>/dev/null || true)
  proc_is "$pid" redis-server && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(readlink -f "$d")" ] &&
    printf '%s' "$pid"
  return 0
}
tls_rabbit_pid() {
  local d pid p
  d=$(tls_rabbit_dir)
  pid=$(cat "$d/node.pid" 2>/dev/null || true)
  # The pid file comes late in the boot: until then, the VM whose Erlang home is our folder.
  if ! tls_rabbit_vm "$pid" "$d"; then
    pid=''
    if have pgrep; then
      for p in $(pgrep -x beam.smp 2>/dev/null || true); do
        if tls_rabbit_vm "$p" "$d"; then pid=$p; break; fi
      done
    fi
  fi
  printf '%s' "$pid"
}
tls_rabbit_vm() { # tls_rabbit_vm PID HOME: PID is a beam.smp started with -home HOME
  proc_is "$1" beam.smp && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF "$2"
}

# tls_free PORT WHAT: dies when something else listens on 127.0.0.1:PORT.
tls_free() {
  ! port_open "$1" || die "tls: 127.0.0.1:$1 ($2) is taken by something this script did not start$(who_listens "$1")"
}

tls_redis_start() {
  local d pid
  d=$(tls_redis_dir)
  pid=$(tls_redis_pid)
  if [ -n "$pid" ]; then note "tls: redis-server already runs on 127.0.0.1:$TLS_REDIS_PORT (pid $pid)"; return 0; fi
  have redis-server || die "tls: redis-server is needed (scripts/services up installs it)"
  tls_free "$TLS_REDIS_PORT" "TLS Redis"
  rm -rf "$d"
  mkdir -p "$d"
  note "tls: starting redis-server on 127.0.0.1:$TLS_REDIS_PORT, TLS only (log: $(tls_show "$d")/redis.log)"
  launch "$d/start.log" 15 redis-server --daemonize yes --bind 127.0.0.1 --port 0 \
    --tls-port "$TLS_REDIS_PORT" --tls-cert-file "$TLS_DIR/server.pem" --tls-key-file "$TLS_DIR/server.key" \
    --tls-ca-cert-file "$TLS_DIR/ca.pem" --tls-auth-clients optional \
    --save "" --appendonly no --dir "$d" --logfile "$d/redis.log" --pidfile "$d/redis.pid" ||
    die "tls: redis-server does not start: $(tail -n 1 "$d/start.log")"
}

# tls_rabbit_env: the environment of the node (call in a subshell), as rabbit-cluster's rc_env.
tls_rabbit_env() {
  local d
  d=$(tls_rabbit_dir)
  export HOME=$d RABBITMQ_NODENAME=$TLS_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$TLS_RABBIT_AMQP_PORT RABBITMQ_DIST_PORT=$TLS_RABBIT_DIST_PORT \
    RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log RABBITMQ_PID_FILE=$d/node.pid \
    RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf \
    RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf ERL_EPMD_ADDRESS=127.0.0.1 \
    ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

tls_rabbit_start() {
  local d bin pid
  d=$(tls_rabbit_dir)
  pid=$(tls_rabbit_pid)
  if [ -n "$pid" ]; then note "tls: RabbitMQ node $TLS_NODE already runs (pid $pid)"; return 0; fi
  bin=$(rc_bin)
  tls_free "$TLS_RABBIT_PORT" "RabbitMQ's SSL listener"
  tls_free "$TLS_RABBIT_AMQP_PORT" "RabbitMQ's plain AMQP listener"
  tls_free "$TLS_RABBIT_DIST_PORT" "RabbitMQ's distribution port"
  tls_free "$TLS_STREAM_PORT" "RabbitMQ's stream TLS listener"
  rm -rf "$d"
  mkdir -p "$d"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$d/.erlang.cookie"
  chmod 400 "$d/.erlang.cookie"
  printf '[rabbitmq_stream].\n' >"$d/enabled_plugins"
  : >"$d/rabbitmq-env.conf"
  cat >"$d/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$TLS_RABBIT_AMQP_PORT
listeners.ssl.1 = 127.0.0.1:$TLS_RABBIT_PORT
stream.listeners.tcp = none
stream.listeners.ssl.1 = 127.0.0.1:$TLS_STREAM_PORT
ssl_options.cacertfile = $TLS_DIR/ca.pem
ssl_options.certfile = $TLS_DIR/server.pem
ssl_options.keyfile = $TLS_DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
loopback_users.guest = true
CONF
  note "tls: starting RabbitMQ node $TLS_NODE, SSL on 127.0.0.1:$TLS_RABBIT_PORT, streams over TLS on 127.0.0.1:$TLS_STREAM_PORT, AMQP on 127.0.0.1:$TLS_RABBIT_AMQP_PORT (boots in 10-60s; log: $(tls_show "$d")/server.out)"
  # Every descriptor redirected and the shell replaced: nothing keeps the caller's stdout open
  # (`scripts/services tls up | cat` ends when up does).
  (close_fds; tls_rabbit_env; cd / && exec setsid "$bin/rabbitmq-server") </dev/null >>"$d/server.out" 2>&1 &
}

# ---- readiness: the tools' own ping ----

# tls_redis_ping WAIT / tls_rabbit_ping WAIT: tool_ping over TLS with the CA (PING_OK, PING_ERR).
tls_redis_ping() { tool_ping redis-ops "$1" --url "$TLS_REDIS_URL" --cacert "$TLS_DIR/ca.pem"; }
tls_rabbit_ping() { tool_ping rabbit-ops "$1" --url "$TLS_RABBIT_URL" --cacert "$TLS_DIR/ca.pem"; }
tls_stream_ping() { tool_ping rabbit-ops "$1" --url "$TLS_STREAM_URL" --cacert "$TLS_DIR/ca.pem"; }

# tls_rabbit_settle: waits in steps of at most 5 s, so that a node that died while booting is
# reported now instead of after RABBITMQ_WAIT.
tls_rabbit_settle() {
  local deadline=$((SECONDS + RABBITMQ_WAIT)) step last d
  d=$(tls_rabbit_dir)
  while :; do
    step=$((deadline - SECONDS))
    [ "$step" -le 5 ] || step=5
    [ "$step" -ge 1 ] || step=1
    tls_rabbit_ping "$step" && tls_stream_ping "$step" && return 0
    if [ -z "$(tls_rabbit_pid)" ]; then
      sleep 1
      if [ -z "$(tls_rabbit_pid)" ]; then
        last=$(grep -hiE 'error|crash|fail' "$d/server.out" "$d/log/$TLS_NODE.log" 2>/dev/null | tail -n 1 | cut -c 1-200 || true)
        die "tls: RabbitMQ node $TLS_NODE exited while booting${last:+: $last} (logs: $(tls_show "$d")/server.out, log/)"
      fi
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
      die "tls: RabbitMQ node $TLS_NODE does not answer within ${RABBITMQ_WAIT}s: $(ping_errors) (logs: $(tls_show "$d")/server.out, log/)"
  done
}

tls_line() { # tls_line LABEL PID PORT: the status lines of one server from PING_OK / PING_ERR
  local line by
  if [ -n "$2" ]; then by="started by scripts/services tls, pid $2"; else by="not started by scripts/services tls"; fi
  for line in "${PING_OK[@]}"; do printf '%-11s %s  (%s)\n' "$1" "$line" "$by"; done
  for line in "${PING_ERR[@]}"; do printf '%-11s NOT ready: %s%s\n' "$1" "$line" "$(who_listens "$3")"; done
}

tls_status() {
  local rc=0 ca=$TLS_DIR/ca.pem
  tls_redis_ping 0 || rc=1
  tls_line tls-redis "$(tls_redis_pid)" "$TLS_REDIS_PORT"
  tls_rabbit_ping 0 || rc=1
  tls_line tls-rabbit "$(tls_rabbit_pid)" "$TLS_RABBIT_PORT"
  tls_stream_ping 0 || rc=1
  tls_line tls-stream "$(tls_rabbit_pid)" "$TLS_STREAM_PORT"
  if [ -s "$ca" ]; then
    printf '%-11s CA: %s (client certificate: %s, %s)\n' tls "$(tls_show "$ca")" \
      "$(tls_show "$TLS_DIR/client.pem")" "$(tls_show "$TLS_DIR/client.key")"
  else
    printf '%-11s no CA yet (%s): scripts/services tls up makes one\n' tls "$(tls_show "$ca")"
  fi
  return "$rc"
}

tls_up() {
  local ca
  tls_certs
  # Servers started with older certificates would present them: start them anew.
  if [ "$TLS_NEW" = 1 ] && { [ -n "$(tls_redis_pid)" ] || [ -n "$(tls_rabbit_pid)" ]; }; then
    note "tls: new certificates: restarting the servers"
    tls_stop
  fi
  tls_redis_start
  tls_rabbit_start
  tls_redis_ping "$TLS_REDIS_WAIT" ||
    die "tls: Redis does not answer: $(ping_errors) (log: $(tls_show "$(tls_redis_dir)")/redis.log)"
  tls_rabbit_settle
  tls_status
  ca=$(tls_show "$TLS_DIR/ca.pem")
  echo "tls         try: redis-ops --url $TLS_REDIS_URL --cacert $ca ping"
  echo "tls         try: rabbit-ops --url $TLS_RABBIT_URL --cacert $ca ping"
  echo "tls         try: rabbit-ops --url $TLS_STREAM_URL --cacert $ca stream-send"
}

# tls_stop: stops both servers (only this script's), keeps every file.
tls_stop() {
  local pid
  pid=$(tls_redis_pid)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    stop_pid "$pid" redis-server 100 || die "tls: redis-server (pid $pid) did not stop"
    echo "tls-redis   stopped (pid $pid)"
  fi
  pid=$(tls_rabbit_pid)
  if [ -n "$pid" ]; then
    (tls_rabbit_env; timeout 60 "$(rc_bin)/rabbitmqctl" -n "$TLS_NODE" -q stop </dev/null >/dev/null 2>&1) ||
      kill -TERM "$pid" 2>/dev/null || true
    stop_pid "$pid" beam.smp 300 || die "tls: RabbitMQ node $TLS_NODE (pid $pid) did not stop"
    echo "tls-rabbit  stopped (node $TLS_NODE, pid $pid)"
  fi
}

tls_down() {
  local f kept=()
  tls_stop
  rm -rf "$(tls_redis_dir)" "$(tls_rabbit_dir)"
  for f in "${TLS_FILES[@]}"; do [ ! -e "$TLS_DIR/$f" ] || kept+=("$f"); done
  if [ "${#kept[@]}" -gt 0 ]; then
    echo "tls         data folders removed; certificates kept in $(tls_show "$TLS_DIR")/ (${kept[*]}): the next up reuses them (delete the folder for new ones)"
  else
    echo "tls         nothing to stop; no certificates in $(tls_show "$TLS_DIR")/"
  fi
}
