#!/usr/bin/env bash
# Latency against offered rate (issue 21), for each bench that takes --rate: first its closed-loop
# capacity, then fixed-rate runs at shares of it (RATE_SHARES, default 10% to 100%), each
# reporting the p99 from the due time (corrected) and from the send (service), the rate achieved
# and whether it was held; then the generator's own CPU per operation at the highest rate it held,
# beside closed-loop. The curves are drawn by plot_rate.py into docs/rate-latency.svg (RATE_SVG),
# the figures kept in $WORK/rate.tsv (printed at the end).
# RATE_SECS (default 4) is the length of each run, after a 1 s warm-up.
# The tools: echo-bench against a fresh echo-server; redis-ops bench (SET, -c 50) against the Redis
# at $REDIS_URL (default 127.0.0.1:6379; its keys are deleted after each run).
# rabbit-ops bench runs against the broker at $AMQP_URL (else 127.0.0.1:5672) with 4 producers
# and 2 consumers, with confirms (at a fixed rate each producer keeps one message in flight), so
# its service time is publish to delivery and its CPU per message counts both ends.
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

SECS=${RATE_SECS:-4}
SHARES=${RATE_SHARES:-"0.1 0.25 0.5 0.75 0.9 1.0"}
SVG=${RATE_SVG:-$ROOT/docs/rate-latency.svg}
TSV="$WORK/rate.tsv"

REDIS=${REDIS_URL:-redis://127.0.0.1:6379/0}
AMQP=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
AMQP=${AMQP%%,*}

cargo build --release -p echo -p redis-ops -p rabbit-ops --locked --quiet
printf 'tool offered achieved corrected_p99_ms service_p99_ms held\n' >"$TSV"

# json FILE EXPR: one value of a JSON report (python3, no jq needed); in EXPR, v is the report
# object: the whole JSON, or the part AT names (redis-ops: one object per test, v["set"]).
AT=v
json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); v=eval(sys.argv[3], {"v": v}); print(eval(sys.argv[2], {"v": v}))' "$1" "$2" "$AT"; }

# measure TOOL OFFERED CMD...: one run of CMD (a bench printing one JSON object) at OFFERED
# operations/s (0: closed-loop); appends its line to the TSV, sets ACHIEVED, HELD and GEN_US (the
# generator's CPU per operation, us).
measure() {
  local tool=$1 offered=$2 times
  shift 2
  times=$( { TIMEFORMAT='%3U %3S'; time "$@" >"$WORK/run.json" 2>"$WORK/run.err"; } 2>&1 ) ||
    die "$tool at $offered/s failed: $(cat "$WORK/run.err")"
  ACHIEVED=$(json "$WORK/run.json" 'v["achieved_rate"]')
  HELD=$(json "$WORK/run.json" '1 if v["rate_held"] else 0')
  GEN_US=$(awk -v t="$times" -v r="$ACHIEVED" -v s="$SECS" 'BEGIN { split(t, a, " "); if (r > 0) printf "%.2f", (a[1] + a[2]) * 1e6 / (r * (s + 1)); else print "n/a" }')
  if [ "$offered" != 0 ]; then
    printf '%s %s %s %s %s %s\n' "$tool" "$offered" "$ACHIEVED" \
      "$(json "$WORK/run.json" 'v["latency_ms"]["corrected"]["p99"]')" \
      "$(json "$WORK/run.json" 'v["latency_ms"]["service"]["p99"]')" "$HELD" >>"$TSV"
  fi
}

# curve TOOL CMD...: the closed-loop capacity of CMD, then a run at each share of it (CMD gets
# --rate N appended), printed as a table.
curve() {
  local tool=$1 cap best=0 best_us=n/a closed_us share rate
  shift
  measure "$tool" 0 "$@"
  cap=${ACHIEVED%.*}
  closed_us=$GEN_US
  echo "  $tool: closed-loop capacity ${cap}/s, generator CPU ${closed_us} us/op"
  printf '    %10s %10s %6s %14s %14s %10s\n' offered achieved held "corrected p99" "service p99" "gen us/op"
  for share in $SHARES; do
    rate=$(awk -v c="$cap" -v s="$share" 'BEGIN { printf "%d", c * s }')
    [ "$rate" -ge 1 ] || continue
    measure "$tool" "$rate" "$@" --rate "$rate"
    printf '    %10s %10s %6s %11s ms %11s ms %10s\n' "$rate" "$ACHIEVED" "$HELD" \
      "$(tail -n 1 "$TSV" | cut -d' ' -f4)" "$(tail -n 1 "$TSV" | cut -d' ' -f5)" "$GEN_US"
    if [ "$HELD" = 1 ]; then best=$rate; best_us=$GEN_US; fi
  done
  echo "    highest rate held: ${best}/s at ${best_us} us of generator CPU per op (closed-loop: ${closed_us} us/op)"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "latency against offered rate: ${SECS} s per run after a 1 s warm-up; shares of capacity: ${SHARES}"

serve rate-echo "$BIN/echo-server" --port 0
curve echo-server "$BIN/echo-bench" "$ADDR" --connections 50 --duration "$SECS" --warmup 1 --json
stop_server

"$BIN/redis-ops" --url "$REDIS" ping >/dev/null || die "no Redis answers (scripts/services up)"
AT='v["set"]'
curve redis-server "$BIN/redis-ops" --url "$REDIS" bench -t set -c 50 --duration "$SECS" --warmup 1 --json
AT=v

curve rabbit-ops "$BIN/rabbit-ops" --url "$AMQP" bench --producers 4 --consumers 2 \
  --confirm --duration "$SECS" --warmup 1 --json

python3 "$ROOT/scripts/bench.d/plot_rate.py" "$TSV" "$SVG"
echo "  the curves: ${SVG#"$ROOT"/} (figures: below)"
sed 's/^/    /' "$TSV"
echo
