# shellcheck shell=bash
# The echo lesson (notes §1.5): echo-server, echo-client (message, --stdin, --udp), echo-bench.
# Sourced by scripts/tour after scripts/lib.sh; each function runs as one lesson.

# echo_start_server NAME ARGS...: starts echo-server --port 0 in the background and sets
# ECHO_ADDR and ECHO_PID from its first line.
echo_start_server() {
  local name=$1 line; shift
  start_bg "$name" echo-server --port 0 "$@"
  ECHO_PID=$BG_PID
  line=$(first_line "$name")
  echo "$line"
  ECHO_ADDR=$(addr_in "$line")
  [ -n "$ECHO_ADDR" ] || { echo "no address in: $line"; return 1; }
}

# echo_stop_server NAME: SIGTERM, expect exit 0 and the summary line on stderr.
echo_stop_server() {
  local name=$1 rc=0
  kill -TERM "$ECHO_PID"
  wait "$ECHO_PID" || rc=$?
  cat "$WORK/$name.err"
  expect_eq "echo-server exit code" "$rc" 0
  grep -q '^echo-server: stopped; ' "$WORK/$name.err"
}

echo_lesson_client() {
  echo_start_server echo-tcp
  local out
  out=$(echo-client "$ECHO_ADDR")
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
  port=${ECHO_ADDR##*:}
  out=$(printf 'a\nb\n' | echo-client --stdin "$port")
  printf '%s\n' "$out"
  expect_eq "echo-client --stdin output" "$out" $'a\nb'
  echo_stop_server echo-stdin
}

echo_lesson_udp() {
  echo_start_server echo-udp --udp
  local out
  out=$(echo-client --udp "$ECHO_ADDR")
  echo "$out"
  expect_eq "echo-client --udp output" "$out" "Server said: hello alex!"
  echo_stop_server echo-udp
}

echo_lesson_bench() {
  echo_start_server echo-bench-server
  echo-bench "$ECHO_ADDR" --connections 10 --size 512 --duration 1
  echo-bench "$ECHO_ADDR" --connections 2 --size 100000 --duration 0.5 --json
  echo_stop_server echo-bench-server
}

lesson "echo: server and client" echo_lesson_client
lesson "echo: client --stdin" echo_lesson_stdin
lesson "echo: udp" echo_lesson_udp
lesson "echo: echo-bench" echo_lesson_bench
