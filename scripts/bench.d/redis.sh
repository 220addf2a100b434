#!/usr/bin/env bash
# Benchmark of redis-ops bench against redis-benchmark, side by side in one run on this machine:
# SET and GET, -c 50 -n REDIS_BENCH_N (default 100000) -d 3, with -P 1 and with -P 16, against
# the Redis at $REDIS_URL (default 127.0.0.1:6379; a private database number is not needed:
# redis-ops uses keys under a unique prefix and deletes them, redis-benchmark writes
# key:__rand_int__, counter:__rand_int__... as it always does).
# Each pair runs REDIS_BENCH_ROUNDS times (default 5), the two tools interleaved; the median
# requests/s of each is reported with the ratio redis-ops / redis-benchmark. Then, when perf
# works, the client CPU cost per request of each (instructions and task-clock, perf stat), which
# is where the difference comes from: Redis itself shares the two cores with the client.
# shellcheck source=scripts/bench.d/common.bash
source "$(dirname "$0")/common.bash"

N=${REDIS_BENCH_N:-100000}
ROUNDS=${REDIS_BENCH_ROUNDS:-5}
URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
command -v redis-benchmark >/dev/null || die "redis-benchmark is needed (apt-get install redis-tools)"
command -v python3 >/dev/null || die "python3 is needed to read the JSON and CSV output"

# host and port for redis-benchmark (plain redis://host:port[/db] URLs only).
if [[ "$URL" =~ ^redis://([^@/]*@)?([^:/]+):([0-9]+) ]]; then
  HOST=${BASH_REMATCH[2]}; PORT=${BASH_REMATCH[3]}
  [ -z "${BASH_REMATCH[1]}" ] || die "this benchmark wants a Redis without a password (REDIS_URL)"
else
  die "cannot read host:port from REDIS_URL=$URL"
fi
redis-cli -h "$HOST" -p "$PORT" ping >/dev/null 2>&1 || die "no Redis answers at $HOST:$PORT (scripts/services up)"

if [ ! -x "$BIN/redis-ops" ] || [ -n "$(find redis-ops/src -newer "$BIN/redis-ops" -name '*.rs' | head -n 1)" ]; then
  cargo build --release -p redis-ops --quiet
fi

# ref_rps TEST P: redis-benchmark's requests/s for TEST (--csv).
ref_rps() {
  redis-benchmark -h "$HOST" -p "$PORT" -c 50 -n "$N" -d 3 -P "$2" -t "$1" --csv 2>/dev/null |
    python3 -c 'import csv,sys
rows=[r for r in csv.reader(sys.stdin) if r and r[0]!="test"]
print(rows[0][1])'
}

# ours_rps TEST P: redis-ops bench's requests/s for TEST (--json); fails on any error.
ours_rps() {
  "$BIN/redis-ops" --url "$URL" bench -c 50 -n "$N" -d 3 -P "$2" -t "$1" --json |
    python3 -c 'import json,sys
d=json.load(sys.stdin)[sys.argv[1]]
assert d["errors"]==0, d
print(d["rps"])' "$1"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-4s %-4s %14s %14s %7s   (rounds: %s, -c 50 -n %s -d 3; medians, requests/s)\n' \
  test -P redis-benchmark redis-ops ratio "$ROUNDS" "$N"
for P in 1 16; do
  for T in set get; do
    refs=(); ours=()
    for _ in $(seq "$ROUNDS"); do
      refs+=("$(ref_rps "$T" "$P")")
      ours+=("$(ours_rps "$T" "$P")")
    done
    r=$(median "${refs[@]}"); o=$(median "${ours[@]}")
    printf '%-4s %-4s %14.0f %14.0f %6.2fx   (redis-benchmark: %s; redis-ops: %s)\n' \
      "${T^^}" "$P" "$r" "$o" "$(awk -v o="$o" -v r="$r" 'BEGIN {print o / r}')" \
      "$(printf '%.0f ' "${refs[@]}")" "$(printf '%.0f ' "${ours[@]}")"
  done
done

# Where the client's time goes: CPU per request of each client (the server's share is the same).
if perf stat -e task-clock true >/dev/null 2>&1; then
  echo
  echo "client cost per request (perf stat, SET+GET, -c 50 -n $N, one run each):"
  for P in 1 16; do
    for tool in redis-benchmark redis-ops; do
      if [ "$tool" = redis-benchmark ]; then
        cmd=(redis-benchmark -h "$HOST" -p "$PORT" -c 50 -n "$N" -d 3 -P "$P" -t "set,get" -q)
      else
        cmd=("$BIN/redis-ops" --url "$URL" bench -c 50 -n "$N" -d 3 -P "$P" -t "set,get" -q)
      fi
      perf stat -x, -e instructions,task-clock -o "$WORK/perf.csv" -- "${cmd[@]}" >/dev/null 2>&1
      awk -F, -v tool="$tool" -v p="$P" -v n="$((2 * N))" '
        $3 ~ /^instructions/ {ins = $1}
        $3 ~ /task-clock/ {ms = $1}
        END {
          i = (ins ~ /^[0-9.]+$/) ? sprintf("%8.0f instructions/request, ", ins / n) : "(instructions: not counted on this machine) "
          printf "  -P %-2s %-15s %s%6.2f us client CPU/request\n", p, tool, i, ms * 1000 / n
        }
      ' "$WORK/perf.csv"
    done
  done
else
  echo "(perf stat does not work here: no CPU profile of the clients)"
fi
