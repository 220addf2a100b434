#!/usr/bin/env bash
# Benchmark of the poetry lesson, everything side by side in one run on this machine:
#   1. poetry-server fast mode: 50 concurrent fetch loops (connect, read the 3,003-byte
#      ecstasy.txt to the server's close, close, again) from one load generator
#      (poetry/bench/fetch_load.c, C, epoll, 2 threads) against: a minimal C epoll server that
#      writes the file and closes (poetry/bench/epoll_server.c, gcc -O2), poetry-server (1 thread,
#      and --threads 2), and the notes' Twisted fast server ported to Python 3
#      (poetry/bench/twisted/fastpoetry.py); fetches/s and ratios;
#   2. poetry-client with 10,000 addresses (the same poetry-server repeated): wall time, failures;
#      then poetry-client and the tutorial's Twisted client 3.0 (Python 3 port,
#      poetry/bench/twisted/get_poetry.py) at 100 addresses.
# Each throughput measurement lasts POETRY_BENCH_SECS seconds (default 3) after a 0.5 s warm-up,
# repeated POETRY_BENCH_ROUNDS times (default 3, servers interleaved); the median is reported.
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

SECS=${POETRY_BENCH_SECS:-3}
ROUNDS=${POETRY_BENCH_ROUNDS:-3}
CONNS=50
POEM=poetry/poems/ecstasy.txt
BYTES=$(wc -c <"$POEM")
MANY=10000
FEW=100

if [ ! -x "$BIN/poetry-server" ] || [ ! -x "$BIN/poetry-client" ]; then
  cargo build --release -p poetry --quiet
fi

c_reference epoll_server poetry/bench/epoll_server.c
c_reference fetch_load poetry/bench/fetch_load.c -pthread

TWISTED=1
bench_venv twisted twisted || TWISTED=0


TICK=$(getconf CLK_TCK)

# load ADDR: fetches/s from the load generator; sets CPU_US to the server's CPU time per fetch
# in microseconds (user + system, warm-up included: a slight overestimate, the same for all).
load() {
  local out before after
  before=$(cpu_ticks "$SERVER_PID")
  out=$("$WORK/fetch_load" "$1" "$CONNS" "$SECS" "$BYTES" 0.5 2) || die "load generator: $out"
  after=$(cpu_ticks "$SERVER_PID")
  case "$out" in
    *"errors: 0 "*) ;;
    *) die "load generator reported errors: $out" ;;
  esac
  FETCHES_S=$(awk '{ print $2 }' <<<"$out")
  GEN_US="${GEN_US:-} $(awk '{ print $8 }' <<<"$out")"
  # shellcheck disable=SC2034 # read by rounds (common.bash)
  CPU_US=$(awk -v t=$((after - before)) -v hz="$TICK" -v f="$FETCHES_S" -v s="$SECS" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / (f * (s + 0.5)) }')
}

bar() { awk -v r="$1" -v min="$2" 'BEGIN { print (r + 0 >= min ? "ok" : "MISS") }'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

contender c "C epoll, 1 thread (gcc -O2)" "$WORK/epoll_server $POEM"
contender rust1 "poetry-server (1 thread)" "$BIN/poetry-server --port 0 $POEM"
contender rust2 "poetry-server --threads 2" "$BIN/poetry-server --port 0 --threads 2 $POEM"
[ "$TWISTED" = 0 ] || contender twisted "Twisted fastpoetry.py, Py 3" "$VENV/bin/python poetry/bench/twisted/fastpoetry.py --port 0 $POEM"

rounds ADDR FETCHES_S CPU_US \
  "poetry-server fast mode: ${CONNS} fetch loops of ${POEM##*/} (${BYTES} B), generator poetry/bench/fetch_load.c (2 threads), ${SECS} s x ${ROUNDS} rounds (median)"
printf '  %-30s %10s %8s %11s %15s   %s\n' server fetches/s "vs C" "vs Twisted" "server CPU/fetch" rounds
for n in "${servers[@]}"; do
  printf '  %-30s %10s %8s %11s %13s us  %s\n' "${server_label[$n]}" "${med[$n]}" \
    "$(versus "$n" c)" "$(versus "$n" twisted)" "${medcpu[$n]}" "${figures[$n]}"
done
r=$(ratio "${med[rust1]}" "${med[c]}")
echo "  poetry-server / C epoll:  $r (1 thread), $(ratio "${med[rust2]}" "${med[c]}") (2 threads)   bar: >= 0.9 ($(bar "$r" 0.9))"
if [ "$TWISTED" = 1 ]; then
  r=$(ratio "${med[rust1]}" "${med[twisted]}")
  echo "  poetry-server / Twisted:  $r (1 thread), $(ratio "${med[rust2]}" "${med[twisted]}") (2 threads)   bar: >= 2 ($(bar "$r" 2))"
  echo "  server CPU per fetch, Twisted / poetry-server (1 thread): $(ratio "${medcpu[twisted]}" "${medcpu[rust1]}"); C / poetry-server: $(ratio "${medcpu[c]}" "${medcpu[rust1]}")"
fi
echo "  the load generator's own CPU per fetch: $(median <<<"$GEN_US") us (median of all runs). On loopback the connecting"
echo "  side pays most of each connection's TCP work, on the same $(nproc) cores as the server: it bounds"
echo "  every server's fetches/s, and narrows the ratios between them"

echo
echo "poetry-client: ${MANY} and ${FEW} addresses, all the same poetry-server (1 thread, fast mode)"
serve bench-client-server "$BIN/poetry-server" --port 0 "$POEM"
# run_client N: runs poetry-client over N copies of the address; prints the wall time.
run_client() {
  local n=$1 start end rc=0 got failed addrs
  mapfile -t addrs < <(yes "$ADDR" | head -n "$n")
  start=$(now)
  poetry-client "${addrs[@]}" >"$WORK/client-$n.out" 2>"$WORK/client-$n.err" || rc=$?
  end=$(now)
  got=$(wc -c <"$WORK/client-$n.out")
  failed=$(grep -c 'failed to get poetry' "$WORK/client-$n.err" || true)
  CLIENT_SECS=$(secs "$start" "$end")
  echo "  poetry-client, $n addresses: ${CLIENT_SECS} s wall, exit $rc, $failed failure(s), $got bytes on stdout ($((n * BYTES)) expected), last line: $(tail -n 1 "$WORK/client-$n.err")"
  if [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$got" != $((n * BYTES)) ]; then
    die "poetry-client at $n addresses did not get every poem"
  fi
}
run_client "$MANY"
many_secs=$CLIENT_SECS
run_client "$FEW"
few_secs=$CLIENT_SECS
if [ "$TWISTED" = 1 ]; then
  mapfile -t addrs < <(yes "$ADDR" | head -n "$FEW")
  start=$(now)
  rc=0
  timeout 60 "$VENV/bin/python" poetry/bench/twisted/get_poetry.py "${addrs[@]}" \
    >"$WORK/twisted-client.out" 2>"$WORK/twisted-client.err" || rc=$?
  end=$(now)
  tw_secs=$(secs "$start" "$end")
  got=$(wc -c <"$WORK/twisted-client.out")
  echo "  Twisted get-poetry 3.0, $FEW addresses: ${tw_secs} s wall, exit $rc, $got bytes on stdout ($((FEW * (BYTES + 1))) expected: each poem + newline)"
  echo "  poetry-client at $MANY addresses: ${many_secs} s; at $FEW: ${few_secs} s, $(ratio "$tw_secs" "$few_secs")x faster than Twisted's ${tw_secs} s"
fi
stop_server
