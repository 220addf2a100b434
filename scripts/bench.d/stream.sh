#!/usr/bin/env bash
# Benchmark of RabbitMQ Streams in rabbit-ops (issue 20), side by side in one run against the
# same broker: `rabbit-ops bench --stream` (rabbitmq-stream-client, through our Endpoint), rstream
# (the official Python stream client, scripts/bench.d/rstream_bench.py from the rstream venv) on
# the same workload, and our AMQP 0-9-1 bench on a quorum queue with confirms (`rabbit-ops bench
# --quorum --confirm`, the queue a stream is usually weighed against). Workload: 1 producer with
# publisher confirms, 1 consumer started first, 100-byte messages. Each figure is the median of
# STREAM_BENCH_ROUNDS runs (default 3, implementations interleaved); STREAM_BENCH_MESSAGES
# messages per run (default 30000). Every run must lose 0 messages; every run deletes its stream
# or queue (also on Ctrl-C). The broker: $RABBITMQ_STREAM_URL (else 127.0.0.1:5552) and $AMQP_URL
# (else 127.0.0.1:5672).
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

N=${STREAM_BENCH_MESSAGES:-30000}
ROUNDS=${STREAM_BENCH_ROUNDS:-3}
SURL=${RABBITMQ_STREAM_URL:-rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f}
AURL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
AURL=${AURL%%,*}

cargo build --release -p rabbit-ops --locked --quiet
PY=$("$ROOT/scripts/rstream-venv")

# field JSON NAME
field() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<<"$1"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A R
impls=(ours rstream quorum)
run() { # run IMPL: one run, figures appended to R[IMPL,FIELD]
  local out f
  case $1 in
    ours) out=$(target/release/rabbit-ops --url "$SURL" bench --stream --json --messages "$N") ;;
    rstream) out=$("$PY" scripts/bench.d/rstream_bench.py --url "$SURL" --messages "$N") ;;
    quorum) out=$(target/release/rabbit-ops --url "$AURL" bench --quorum --confirm --json --messages "$N") ;;
  esac
  [ "$(field "$out" lost)" = 0 ] || die "$1 lost messages: $out"
  for f in publish_per_s consume_per_s p50_ms p99_ms; do
    R[$1,$f]+="$(field "$out" "$f") "
  done
}

echo "streams: rabbit-ops bench --stream vs rstream vs rabbit-ops bench --quorum --confirm (AMQP 0-9-1);"
echo "1 producer with confirms, 1 consumer, 100 B, $N messages; median of $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
  for impl in "${impls[@]}"; do run "$impl"; done
done

m() { tr ' ' '\n' <<<"${R[$1,$2]}" | grep -v '^$' | median; }
printf '\n%-28s %12s %12s %9s %9s\n' impl "publish/s" "consume/s" "p50 ms" "p99 ms"
declare -A label=([ours]="rabbit-ops (stream)" [rstream]="rstream (stream)" [quorum]="rabbit-ops (quorum queue)")
for impl in "${impls[@]}"; do
  printf '%-28s %12.0f %12.0f %9.2f %9.2f\n' "${label[$impl]}" "$(m "$impl" publish_per_s)" \
    "$(m "$impl" consume_per_s)" "$(m "$impl" p50_ms)" "$(m "$impl" p99_ms)"
done
echo
awk -v op="$(m ours publish_per_s)" -v oc="$(m ours consume_per_s)" \
  -v rp="$(m rstream publish_per_s)" -v rc="$(m rstream consume_per_s)" \
  -v qp="$(m quorum publish_per_s)" -v qc="$(m quorum consume_per_s)" 'BEGIN {
  printf "ours/rstream      publish %.1fx consume %.1fx (target >= 2)\n", op / rp, oc / rc
  printf "stream/quorum     publish %.1fx consume %.1fx (rabbit-ops, the two protocols)\n", op / qp, oc / qc }'
