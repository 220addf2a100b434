# shellcheck shell=bash
# Redis on 127.0.0.1:6379 for scripts/services (sourced after scripts/lib.sh): reuse, install,
# start, check with `redis-ops ping`, stop. With REDIS_URL set, only checks it (redis-ops reads it).

if [ -n "${REDIS_URL:-}" ]; then
  REDIS_TARGET=()
else
  REDIS_TARGET=(--url redis://127.0.0.1:6379/0)
fi
REDIS_METHOD='' REDIS_LOG=''

# redis_ping WAIT: tool_ping with redis-ops.
redis_ping() { tool_ping redis-ops "$1" "${REDIS_TARGET[@]}"; }

redis_status() { service_status redis redis_ping REDIS_URL redis redis-server 6379; }

redis_plan() {
  service_plan redis_ping REDIS_URL redis redis-server 6379 "$REDIS_WAIT" Redis \
    "a Redis with a password: set REDIS_URL=redis://:PASSWORD@127.0.0.1:6379"
}

redis_packages() {
  have redis-server || PKGS+=(redis-server)
  have redis-cli || PKGS+=(redis-tools)
}

redis_start() {
  local dir d ver log=$STATE_DIR/redis-start.log
  local -a bind=(127.0.0.1)
  if systemd_runs && [ "$IS_ROOT" = 1 ] && systemctl cat redis-server.service >/dev/null 2>&1; then
    note "redis: systemctl start redis-server"
    timeout 60 systemctl start redis-server.service || die "systemctl start redis-server failed: see journalctl -u redis-server"
    REDIS_METHOD=systemctl REDIS_LOG="journalctl -u redis-server"
    return 0
  fi
  if [ "$IS_ROOT" = 1 ]; then
    dir=/var/lib/redis
    for d in /var/lib/redis /var/log/redis; do
      [ -d "$d" ] && continue
      mkdir -p "$d"
      ! getent passwd redis >/dev/null || chown redis:redis "$d"
      note "redis: created $d"
    done
    REDIS_LOG=/var/log/redis/ci.log
  else
    dir=$STATE_DIR/redis
    mkdir -p "$dir"
    REDIS_LOG=$STATE_DIR/redis.log
  fi
  # "-::1" (bind if available) needs Redis 6.2 or newer.
  ver=$(redis-server --version 2>/dev/null | sed -nE 's/.*v=([0-9]+)\.([0-9]+).*/\1 \2/p')
  if [ -n "$ver" ] && { [ "${ver% *}" -gt 6 ] || { [ "${ver% *}" -eq 6 ] && [ "${ver#* }" -ge 2 ]; }; }; then
    bind+=(-::1)
  fi
  note "redis: starting redis-server on 127.0.0.1:6379 (log: $REDIS_LOG)"
  rm -f "$STATE_DIR/redis.pid"
  if launch "$log" 15 redis-server --daemonize yes --bind "${bind[@]}" --port 6379 --save "" \
    --appendonly no --dir "$dir" --logfile "$REDIS_LOG" --pidfile "$STATE_DIR/redis.pid"; then
    REDIS_METHOD=direct
  elif [ "$IS_ROOT" = 1 ] && [ -x /etc/init.d/redis-server ] && have service; then
    note "redis: redis-server did not start ($(tail -n 1 "$log")); trying: service redis-server start"
    launch "$log" 60 service redis-server start || die "redis-server does not start: $(tail -n 1 "$log")"
    REDIS_METHOD=service REDIS_LOG=/var/log/redis/redis-server.log
  else
    die "redis-server does not start: $(tail -n 1 "$log")"
  fi
}

redis_settle() {
  local last='' pid=''
  if ! redis_ping "$REDIS_WAIT"; then
    [ ! -r "$REDIS_LOG" ] || last=$(grep -v '^$' "$REDIS_LOG" | tail -n 1 | cut -c 1-160)
    die "Redis was started but does not answer: $(ping_errors)${last:+; its log ($REDIS_LOG) ends: $last}"
  fi
  [ ! -r "$STATE_DIR/redis.pid" ] || pid=$(cat "$STATE_DIR/redis.pid")
  [ -n "$pid" ] || pid=$(listener_pid 6379)
  [ "$REDIS_METHOD" != systemctl ] || pid=$(systemctl show -p MainPID --value redis-server.service)
  state_put redis "method=$REDIS_METHOD" "pid=$pid"
}

redis_down() {
  local pid method
  if [ -n "${REDIS_URL:-}" ]; then
    echo "redis     left alone (REDIS_URL is set)"
  elif ! ours redis redis-server; then
    state_drop redis
    echo "redis     left alone (not started by scripts/services)"
  else
    pid=$(state_get redis pid) method=$(state_get redis method)
    case $method in
      systemctl) timeout 60 systemctl stop redis-server.service ;;
      service) timeout 60 service redis-server stop >/dev/null 2>&1 || kill -TERM "$pid" ;;
      *) kill -TERM "$pid" ;;
    esac
    stop_pid "$pid" redis-server 100 || die "Redis (pid $pid) did not stop"
    state_drop redis
    echo "redis     stopped (pid $pid, started by scripts/services)"
  fi
}
