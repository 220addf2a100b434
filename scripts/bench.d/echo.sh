#!/usr/bin/env bash
# Benchmark of the echo lesson, everything side by side in one run on this machine:
#   1. throughput, 50 connections x 512 B ping-pong on loopback, one independent load generator
#      (echo/bench/echo_load.c, C, epoll) against: a minimal single-threaded C epoll echo server
#      (echo/bench/epoll_echo.c, gcc -O2), echo-server (1 thread, and --threads 2), and the notes'
#      Twisted echo server ported to Python 3 (echo/bench/twisted_echo.py); ratios printed;
#   2. echo-bench against that same generator, on the same echo-server: the ratio of their figures;
#   3. memory: echo-server's RSS before and after 10,000 idle connections, per connection.
# Each measurement lasts ECHO_BENCH_SECS seconds (default 3) and is repeated ECHO_BENCH_ROUNDS
# times (default 3, servers interleaved); the median is reported.
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

SECS=${ECHO_BENCH_SECS:-3}
ROUNDS=${ECHO_BENCH_ROUNDS:-3}
CONNS=50
SIZE=512
IDLE=10000

# A no-op when scripts/bench (scripts/setup) has just built everything.
cargo build --release -p echo --locked --quiet

# 10,000 idle connections need 10,000 descriptors in the client (echo-server raises its own).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 100)) ]; then
  die "the open-file limit ($(ulimit -n), hard $(ulimit -Hn)) is below $((IDLE + 100))"
fi

c_reference epoll_echo echo/bench/epoll_echo.c
c_reference echo_load echo/bench/echo_load.c

TWISTED=1
bench_venv twisted twisted || TWISTED=0


TICK_US=$((1000000 / $(getconf CLK_TCK)))

# load PORT: runs the independent generator against SERVER_PID; sets MSGS (messages/s), SCPU
# (the server's CPU time per message, us) and GCPU (the generator's, us).
load() {
  local out t0 t1 times
  t0=$(cpu_ticks "$SERVER_PID")
  times=$( { TIMEFORMAT='%3U %3S'; time "$WORK/echo_load" run "$1" "$CONNS" "$SIZE" "$SECS" >"$WORK/load.out"; } 2>&1 )
  t1=$(cpu_ticks "$SERVER_PID")
  out=$(cat "$WORK/load.out")
  case "$out" in
    *" errors 0") ;;
    *) die "load generator reported errors: $out" ;;
  esac
  MSGS=$(echo "${out#messages_per_sec }" | cut -d' ' -f1)
  # shellcheck disable=SC2034 # read by rounds (common.bash)
  SCPU=$(per_msg "$(awk -v t=$((t1 - t0)) -v us="$TICK_US" 'BEGIN { print t * us / 1e6 }')")
  GCPU=$(per_msg "$(awk '{ print $1 + $2 }' <<<"$times")")
}

# per_msg SECONDS: CPU seconds over the last run's messages, in microseconds per message.
per_msg() { awk -v c="$1" -v m="$MSGS" -v s="$SECS" 'BEGIN { if (m > 0) printf "%.2f", c * 1e6 / (m * s); else print "n/a" }'; }

mbps() { awk -v m="$1" -v s="$SIZE" 'BEGIN { printf "%.1f", m * s / 1e6 }'; }

contender c "C epoll, 1 thread (gcc -O2)" "$WORK/epoll_echo 0"
contender rust1 "echo-server (--threads 1)" "$BIN/echo-server --port 0 --threads 1"
contender rust2 "echo-server --threads 2" "$BIN/echo-server --port 0 --threads 2"
[ "$TWISTED" = 0 ] || contender twisted "Twisted, Python 3" "$VENV/bin/python echo/bench/twisted_echo.py 0"

rounds PORT MSGS SCPU \
  "throughput: ${CONNS} connections x ${SIZE} B ping-pong, generator echo/bench/echo_load.c, ${SECS} s x ${ROUNDS} rounds (median)"
printf '  %-30s %11s %6s %6s %8s %15s   %s\n' server messages/s MB/s "vs C" "vs Twst" "server CPU/msg" "rounds (messages/s)"
for n in "${servers[@]}"; do
  printf '  %-30s %11s %6s %6s %8s %12s us   %s\n' "${server_label[$n]}" "${med[$n]}" "$(mbps "${med[$n]}")" \
    "$(versus "$n" c)" "$(versus "$n" twisted)" "${medcpu[$n]}" "${figures[$n]# }"
done
echo "  echo-server / C epoll:  $(ratio "${med[rust1]}" "${med[c]}") (1 thread), $(ratio "${med[rust2]}" "${med[c]}") (2 threads)   bar: >= 0.9"
echo "    CPU per message, C / echo-server: $(ratio "${medcpu[c]}" "${medcpu[rust1]}") (1 thread), $(ratio "${medcpu[c]}" "${medcpu[rust2]}") (2 threads)"
if [ "$TWISTED" = 1 ]; then
  echo "  echo-server / Twisted:  $(ratio "${med[rust1]}" "${med[twisted]}") (1 thread), $(ratio "${med[rust2]}" "${med[twisted]}") (2 threads)   bar: >= 3"
  echo "    CPU per message, Twisted / echo-server: $(ratio "${medcpu[twisted]}" "${medcpu[rust1]}") (1 thread); C epoll / Twisted throughput: $(ratio "${med[c]}" "${med[twisted]}")"
fi

echo
echo "echo-bench against the independent generator, both on one echo-server (--threads 1):"
serve bench-agree "$BIN/echo-server" --port 0
gen=() own=() gen_cpu=() own_cpu=()
for ((r = 1; r <= ROUNDS; r++)); do
  load "$PORT"
  gen+=("$MSGS")
  gen_cpu+=("$GCPU")
  times=$( { TIMEFORMAT='%3U %3S'; time echo-bench "127.0.0.1:$PORT" --connections "$CONNS" --size "$SIZE" --duration "$SECS" --json >"$WORK/bench.json"; } 2>&1 )
  json=$(cat "$WORK/bench.json")
  MSGS=$(sed -E 's/.*"messages_per_sec":([0-9.]+).*/\1/' <<<"$json" | cut -d. -f1)
  own+=("$MSGS")
  own_cpu+=("$(per_msg "$(awk '{ print $1 + $2 }' <<<"$times")")")
done
stop_server
g=$(median <<<"${gen[*]}")
o=$(median <<<"${own[*]}")
echo "  echo_load (C)   $g messages/s, $(median <<<"${gen_cpu[*]}") us of CPU per message   rounds: ${gen[*]}"
echo "  echo-bench      $o messages/s, $(median <<<"${own_cpu[*]}") us of CPU per message   rounds: ${own[*]}"
echo "  echo-bench / echo_load: $(ratio "$o" "$g")   bar: within 10% (0.90-1.10)"
echo "  last echo-bench report: $json"

echo
echo "memory: ${IDLE} idle connections (each has echoed one byte, then stays open)"
serve bench-idle "$BIN/echo-server" --port 0 --max-connections $((IDLE + 1000))
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
before=$(rss "$SERVER_PID")
mkfifo "$WORK/hold"
"$WORK/echo_load" idle "$PORT" "$IDLE" <"$WORK/hold" >"$WORK/idle.out" 2>"$WORK/idle.err" &
holder=$!
exec 3>"$WORK/hold"
for ((i = 0; i < 600; i++)); do
  grep -q ready "$WORK/idle.out" 2>/dev/null && break
  kill -0 "$holder" 2>/dev/null || { cat "$WORK/idle.err" >&2; die "the idle client failed"; }
  sleep 0.1
done
grep -q ready "$WORK/idle.out" || die "the idle connections were not all open after 60 s"
sleep 0.5
after=$(rss "$SERVER_PID")
exec 3>&-
wait "$holder" || true
stop_server
per=$(awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
echo "  echo-server RSS: ${before} KiB before, ${after} KiB with ${IDLE} idle connections"
echo "  per idle connection: ${per} bytes   bar: <= 2048"
