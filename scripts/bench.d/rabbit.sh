#!/usr/bin/env bash
# Benchmark of rabbit-ops (notes §3), side by side in one run against the same broker
# ($AMQP_URL, else 127.0.0.1:5672): `rabbit-ops bench` (our layer: connect timeout, confirm
# tracking that can republish, recovering consumers), a bare amiquip publish/consume loop
# (rabbit-ops/examples/amiquip_bare.rs) and pika's BlockingConnection
# (rabbit-ops/bench/pika_bench.py, the notes' client), on the same workload: 1 producer,
# 1 consumer, 100-byte messages, prefetch 500, for each of plain, --persistent, --confirm, both.
# Each figure is the median of RABBIT_BENCH_ROUNDS runs (default 3, implementations
# interleaved). Message counts: RABBIT_BENCH_MESSAGES for the Rust ones (default 30000) and
# RABBIT_BENCH_PIKA_MESSAGES for pika (default 5000, fewer for pika with confirms: it waits for
# each confirm in turn). Every run must lose 0 messages.
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

N=${RABBIT_BENCH_MESSAGES:-30000}
NP=${RABBIT_BENCH_PIKA_MESSAGES:-5000}
ROUNDS=${RABBIT_BENCH_ROUNDS:-3}
URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
URL=${URL%%,*}

cargo build --release -p rabbit-ops --locked --quiet
cargo build --release -p rabbit-ops --example amiquip_bare --locked --quiet
VENV=$ROOT/target/bench-venv
if ! "$VENV/bin/python" -c 'import pika' 2>/dev/null; then
  echo "installing pika into $VENV (PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pika
fi

# field JSON NAME
field() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<<"$1"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A R
run() { # run IMPL CONFIG ARGS...: one run, figures appended to R[IMPL,CONFIG,FIELD]
  local impl=$1 cfg=$2 out f
  shift 2
  case $impl in
    ours) out=$(target/release/rabbit-ops --url "$URL" bench --json --messages "$N" "$@") ;;
    bare) out=$(target/release/examples/amiquip_bare --url "$URL" --messages "$N" "$@") ;;
    pika)
      local n=$NP
      [[ " $* " != *" --confirm "* ]] || n=$((NP / 5))
      out=$("$VENV/bin/python" rabbit-ops/bench/pika_bench.py --url "$URL" --messages "$n" "$@") ;;
  esac
  [ "$(field "$out" lost)" = 0 ] || die "$impl $cfg lost messages: $out"
  for f in publish_per_s consume_per_s p50_ms p99_ms; do
    R[$impl,$cfg,$f]+="$(field "$out" "$f") "
  done
}

configs=(plain persistent confirm persistent+confirm)
args_of() {
  case $1 in
    plain) ;;
    persistent) echo --persistent ;;
    confirm) echo --confirm ;;
    persistent+confirm) echo --persistent --confirm ;;
  esac
}

echo "rabbit-ops bench vs bare amiquip vs pika: 1 producer, 1 consumer, 100 B, prefetch 500;"
echo "Rust runs $N messages, pika $NP ($((NP / 5)) with confirms); median of $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
  for cfg in "${configs[@]}"; do
    # shellcheck disable=SC2046 # the flags of a configuration, split on purpose
    for impl in ours bare pika; do run "$impl" "$cfg" $(args_of "$cfg"); done
  done
done

m() { tr ' ' '\n' <<<"${R[$1,$2,$3]}" | grep -v '^$' | median; }
printf '\n%-20s %-5s %12s %12s %9s %9s\n' config impl "publish/s" "consume/s" "p50 ms" "p99 ms"
for cfg in "${configs[@]}"; do
  for impl in ours bare pika; do
    printf '%-20s %-5s %12.0f %12.0f %9.2f %9.2f\n' "$cfg" "$impl" "$(m "$impl" "$cfg" publish_per_s)" \
      "$(m "$impl" "$cfg" consume_per_s)" "$(m "$impl" "$cfg" p50_ms)" "$(m "$impl" "$cfg" p99_ms)"
  done
done
echo
for cfg in "${configs[@]}"; do
  awk -v c="$cfg" -v op="$(m ours "$cfg" publish_per_s)" -v oc="$(m ours "$cfg" consume_per_s)" \
    -v bp="$(m bare "$cfg" publish_per_s)" -v bc="$(m bare "$cfg" consume_per_s)" \
    -v pp="$(m pika "$cfg" publish_per_s)" -v pc="$(m pika "$cfg" consume_per_s)" 'BEGIN {
    printf "%-20s ours/pika publish %.1fx consume %.1fx (target >= 2)   ours/bare publish %.2fx consume %.2fx (target >= 0.9)\n",
      c, op / pp, oc / pc, op / bp, oc / bc }'
done
echo
awk -v p="$(m ours plain publish_per_s)" -v s="$(m ours persistent publish_per_s)" \
  -v c="$(m ours confirm publish_per_s)" -v b="$(m ours persistent+confirm publish_per_s)" 'BEGIN {
  printf "cost for rabbit-ops (publish rate vs plain): persistence %.0f%%, confirms %.0f%%, both %.0f%%\n",
    100 * (1 - s / p), 100 * (1 - c / p), 100 * (1 - b / p) }'
