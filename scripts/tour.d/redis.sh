# shellcheck shell=bash
# The Redis lesson (notes §2): set/get, the connection pool, every operation of §2c, pub/sub.
# Sourced by scripts/tour after scripts/lib.sh; each function runs as one lesson. Uses
# $REDIS_URL when set (redis-ops reads it), else redis://127.0.0.1:6379/0.

REDIS_TOUR_KEY="tour:$$:$RANDOM"

redis_lesson_set_get() {
  local k="$REDIS_TOUR_KEY" out rc
  expect_eq "set" "$(redis-ops set "$k:greeting" 'hello world' --ex 60)" "OK"
  out=$(redis-ops get "$k:greeting")
  echo "get: $out"
  expect_eq "get" "$out" "hello world"

  # Binary-safe: argv must be UTF-8, so raw bytes go in through --stdin.
  head -c 4096 /dev/urandom >"$WORK/random.bin"
  echo "set --stdin: $(redis-ops set "$k:bin" --stdin --ex 60 <"$WORK/random.bin")"
  redis-ops get "$k:bin" >"$WORK/random.out"
  cmp "$WORK/random.bin" "$WORK/random.out"
  echo "4096 random bytes: stored and read back identical"

  # NX on an existing key: not set, exit 1.
  rc=0; redis-ops set "$k:greeting" other --nx 2>"$WORK/nx.err" || rc=$?
  cat "$WORK/nx.err"
  expect_eq "set --nx exit code" "$rc" 1
  expect_eq "value after --nx" "$(redis-ops get "$k:greeting")" "hello world"

  # A missing key: (nil) on stderr, exit 1.
  rc=0; redis-ops get "$k:missing" 2>"$WORK/nil.err" || rc=$?
  expect_eq "get missing" "$(cat "$WORK/nil.err")" "(nil)"
  expect_eq "get missing exit code" "$rc" 1

  # Nothing listening on port 1: one line, exit 1.
  rc=0; redis-ops --url redis://:secret@127.0.0.1:1/0 get x 2>"$WORK/refused.err" || rc=$?
  cat "$WORK/refused.err"
  expect_eq "refused" "$(cat "$WORK/refused.err")" \
    "error: cannot connect to redis://:***@127.0.0.1:1/0: connection refused"
  expect_eq "refused exit code" "$rc" 1

  # Both keys expire within 60 s anyway; expire them now.
  redis-ops set "$k:greeting" gone --px 1 >/dev/null
  redis-ops set "$k:bin" gone --px 1 >/dev/null
}

redis_lesson_all() {
  redis-ops lesson all >"$WORK/lesson.out"
  # The transcript is long: show its head and its verdict.
  head -n 12 "$WORK/lesson.out"
  echo "..."
  tail -n 3 "$WORK/lesson.out"
  grep -q '^lesson all: [0-9]* replies checked, all as expected$' "$WORK/lesson.out"
  ! grep -q '^! ' "$WORK/lesson.out"
}

redis_lesson_pool() {
  local out used
  out=$(redis-ops pool --size 4 --tasks 64 --ops 10000)
  echo "$out"
  used=$(sed -n 's/^server connections used: \([0-9]*\) .*/\1/p' <<<"$out")
  if [ -z "$used" ] || [ "$used" -lt 1 ] || [ "$used" -gt 4 ]; then
    echo "pool used '$used' connections; it must be 1 to 4 (its size)"
    return 1
  fi
  grep -q '^counter: 10000 (expected 10000)$' <<<"$out"
}

redis_lesson_pubsub() {
  trap cleanup_bg EXIT
  local ch="$REDIS_TOUR_KEY:fm104.5" i
  start_bg subscriber redis-ops subscribe "$ch" --count 3 --timeout 20
  local sub=$BG_PID
  for ((i = 0; i < 200; i++)); do
    grep -q '^subscribed to ' "$WORK/subscriber.err" 2>/dev/null && break
    sleep 0.05
  done
  cat "$WORK/subscriber.err"
  for song in "song 1" "song 2" "news at nine"; do
    redis-ops publish "$ch" "$song"
  done
  wait "$sub"
  cat "$WORK/subscriber.out"
  expect_eq "messages" "$(cat "$WORK/subscriber.out")" \
    "$ch: song 1"$'\n'"$ch: song 2"$'\n'"$ch: news at nine"
}

redis_lesson_bench() {
  # A short run of the benchmark (scripts/bench redis compares it with redis-benchmark).
  local out
  out=$(redis-ops bench -c 20 -n 20000 -t set,get -q)
  echo "$out"
  expect_eq "result lines" "$(grep -cE '^(SET|GET): [0-9.]+ requests per second, .*errors=0$' <<<"$out")" 2
}

lesson "redis: set/get" redis_lesson_set_get
lesson "redis: lesson all" redis_lesson_all
lesson "redis: pool" redis_lesson_pool
lesson "redis: publish/subscribe" redis_lesson_pubsub
lesson "redis: bench" redis_lesson_bench
