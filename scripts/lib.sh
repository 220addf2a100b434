# shellcheck shell=bash
# Helpers shared by scripts/tour, scripts/tour.d/*.sh and scripts/bench.d/*.sh. Source it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/target/release}"
export PATH="$BIN:$PATH"
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/lessons.XXXXXX")}"
FAILED=0
BG_PIDS=()

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Kill every background process started with start_bg, then remove the scratch folder.
cleanup_bg() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BG_PIDS=()
}
trap 'cleanup_bg; rm -rf "$WORK"' EXIT

# start_bg NAME CMD...: runs CMD in the background, stdout to $WORK/NAME.out, stderr to
# $WORK/NAME.err; the pid is in $BG_PID.
start_bg() {
  local name=$1; shift
  # Empty the files first: first_line must never read a previous process's output.
  : >"$WORK/$name.out"; : >"$WORK/$name.err"
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# first_line NAME [SECONDS]: waits until $WORK/NAME.out has a first line and prints it.
first_line() {
  local name=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if [ -s "$WORK/$name.out" ] && IFS= read -r line <"$WORK/$name.out" && [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.05
  done
  say "no first line from $name after ${secs}s; its stderr:"
  cat "$WORK/$name.err" >&2 || true
  return 1
}

# addr_in LINE: the first ip:port in a line such as "listening on 127.0.0.1:4321".
addr_in() { grep -oE '([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]+|\[[0-9a-fA-F:]+\]:[0-9]+' <<<"$1" | head -n 1; }

# lesson NAME FUNCTION [ARGS...]: runs a lesson function with its output in a log, prints one
# result line, and remembers a failure in $FAILED.
lesson() {
  local name=$1; shift
  local log="$WORK/lesson-${name//[^A-Za-z0-9_.-]/_}.log" start end rc=0
  start=$(date +%s.%N)
  # The lesson runs in a subshell: its background processes are killed when it ends.
  ( set -euo pipefail; trap cleanup_bg EXIT; "$@" ) >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 0 ]; then
    printf 'ok    %-28s %6ss\n' "$name" "$secs"
  else
    printf 'FAIL  %-28s %6ss  (exit %s; last lines below)\n' "$name" "$secs" "$rc"
    tail -n 15 "$log" | sed 's/^/      | /'
    FAILED=$((FAILED + 1))
  fi
}

# expect_eq WHAT ACTUAL EXPECTED: fails the lesson when they differ.
expect_eq() {
  if [ "$2" != "$3" ]; then
    printf 'unexpected %s:\n  got:      %q\n  expected: %q\n' "$1" "$2" "$3" >&2
    return 1
  fi
}

# ---- benchmark helpers (scripts/bench.d/*.sh) ----

# bench_venv MODULE PACKAGE: makes sure the Python virtual environment target/bench-venv (shared
# by the benchmarks) can import MODULE, installing PACKAGE from PyPI the first time. Sets VENV.
# Returns non-zero (after a warning) when it cannot, so a benchmark can skip that reference.
bench_venv() {
  VENV="$ROOT/target/bench-venv"
  "$VENV/bin/python" -c "import $1" 2>/dev/null && return 0
  say "installing $2 into $VENV (once)"
  if { [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"; } >&2 &&
    "$VENV/bin/pip" install --quiet "$2" >&2; then
    return 0
  fi
  say "warning: cannot install $2 into $VENV; comparisons with it are skipped"
  return 1
}

# serve NAME CMD...: starts a server whose first stdout line ends with its ip:port (or
# "ip:port." or "ip:port (udp)"); sets SERVER_PID, ADDR (ip:port) and PORT.
serve() {
  local name=$1 line; shift
  start_bg "$name" "$@"
  SERVER_PID=$BG_PID
  line=$(first_line "$name" 20) || die "$name did not start"
  ADDR=$(addr_in "$line")
  [ -n "$ADDR" ] || die "no address in $name's first line: $line"
  # shellcheck disable=SC2034 # used by the benchmarks that source this file
  PORT=${ADDR##*:}
}

# stop_server: stops the server started by the last serve.
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# median: the median of the numbers on stdin (separated by spaces or lines).
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ratio A B: A / B with two decimals ("n/a" when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
