# shellcheck shell=bash
# The echo lesson (notes §1.5): echo-server, echo-client (message, --stdin, --udp), echo-bench.
# Sourced by scripts/tour after scripts/lib.sh; each function runs as one lesson.

# shellcheck source=scripts/tour.d/common.bash
source "$ROOT/scripts/tour.d/common.bash"

# echo_start_server NAME ARGS...: echo-server --port 0 ARGS in the background (tour_start: sets
# TOUR_ADDR and TOUR_PID).
echo_start_server() {
  local name=$1
  shift
  tour_start "$name" echo-server --port 0 "$@"
}

# echo_stop_server NAME: SIGTERM, expect exit 0 and the summary line on stderr.
echo_stop_server() { tour_stop "$1" "$TOUR_PID" 'echo-server: stopped; '; }

echo_lesson_client() {
  echo_start_server echo-tcp
  local out
  out=$(echo-client "$TOUR_ADDR")
  echo "$out"
  expect_eq "echo-client output" "$out" "Server said: hello alex!"

  # Nothing listening: the notes' "Connection failed - goodbye!" and exit 1.
  local rc=0
  out=$(echo-client 127.0.0.1:1 2>"$WORK/refused.err") || rc=$?
  cat "$WORK/refused.err"
  expect_eq "refused output" "$out" "Connection failed - goodbye!"
  expect_eq "refused exit code" "$rc" 1
  echo_stop_server echo-tcp
}

echo_lesson_stdin() {
  echo_start_server echo-stdin
  local port out
  port=${TOUR_ADDR##*:}
  out=$(printf 'a\nb\n' | echo-client --stdin "$port")
  printf '%s\n' "$out"
  expect_eq "echo-client --stdin output" "$out" $'a\nb'
  echo_stop_server echo-stdin
}

echo_lesson_udp() {
  echo_start_server echo-udp --udp
  local out
  out=$(echo-client --udp "$TOUR_ADDR")
  echo "$out"
  expect_eq "echo-client --udp output" "$out" "Server said: hello alex!"
  echo_stop_server echo-udp
}

echo_lesson_bench() {
  echo_start_server echo-bench-server
  echo-bench "$TOUR_ADDR" --connections 10 --size 512 --duration 1
  echo-bench "$TOUR_ADDR" --connections 2 --size 100000 --duration 0.5 --json
  echo_stop_server echo-bench-server
}

lesson "echo: server and client" echo_lesson_client
lesson "echo: client --stdin" echo_lesson_stdin
lesson "echo: udp" echo_lesson_udp
lesson "echo: echo-bench" echo_lesson_bench
