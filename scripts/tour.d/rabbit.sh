# shellcheck shell=bash
# The RabbitMQ tutorials (notes §3), end to end with rabbit-ops against the real broker
# ($AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/%2f). Sourced by scripts/tour.
#
# The tutorials' exchange names are used; the tutorial queues get names of the tour's own
# (tour_hello, tour_task_queue, tour_rpc_queue: durable quorum queues, as today's tutorials
# declare them), so that a broker's leftover classic hello/task_queue/rpc_queue never break it.
# Receivers of exchanges get fresh exclusive queues, so they see only this run's messages; the
# tour's queues may hold messages from earlier runs, so those lessons wait for this run's own
# messages rather than counting lines.

# rabbit_wait NAME LINE [SECS]: waits until $WORK/NAME.out has exactly the line LINE.
rabbit_wait() {
  local name=$1 line=$2 secs=${3:-15} i
  for ((i = 0; i < secs * 20; i++)); do
    if grep -qxF -- "$line" "$WORK/$name.out" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  say "no line '$line' from $name after ${secs}s; it printed:"
  cat "$WORK/$name.out" "$WORK/$name.err" >&2 || true
  return 1
}

# rabbit_consumer NAME ARGS...: starts `rabbit-ops ARGS...` in the background and waits for its
# Waiting line (printed once its queue is bound), so that nothing published after is missed.
rabbit_consumer() {
  local name=$1; shift
  start_bg "$name" rabbit-ops "$@"
  first_line "$name" 15 >/dev/null
}

# rabbit_counted NAME ARGS...: like rabbit_consumer, for a consumer that ends by itself (--count);
# wait_count NAME then checks that it exited 0.
declare -A RABBIT_PID
rabbit_counted() {
  local name=$1; shift
  rabbit_consumer "$name" "$@"
  RABBIT_PID[$name]=$BG_PID
}

# wait_count NAME: waits (at most 15 s) until the consumer NAME exits, and expects exit code 0.
wait_count() {
  local name=$1 pid=${RABBIT_PID[$1]} i rc=0
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name still running after 15 s; it printed:"
    cat "$WORK/$name.out" "$WORK/$name.err" >&2 || true
    return 1
  fi
  wait "$pid" || rc=$?
  expect_eq "$name exit code" "$rc" 0
}

rabbit_hello() {
  local msg="Hello from the tour $$"
  rabbit_consumer receive receive --queue tour_hello
  expect_eq "receiver's first line" "$(head -n 1 "$WORK/receive.out")" \
    " [*] Waiting for messages. To exit press CTRL+C"
  expect_eq "send output" "$(rabbit-ops send --queue tour_hello)" " [x] Sent 'Hello World!'"
  expect_eq "send output" "$(rabbit-ops send --queue tour_hello "$msg")" " [x] Sent '$msg'"
  rabbit_wait receive " [x] Received Hello World!"
  rabbit_wait receive " [x] Received $msg"
  cat "$WORK/receive.out"
}

rabbit_work() {
  local tag="[tour $$]" t total a b
  local tasks=("First message." "Second message.." "Third message..." "Fourth message...." "Fifth message.....")
  # Two workers, 100 ms of work per dot instead of a second.
  rabbit_consumer worker1 worker --queue tour_task_queue --dot-ms 100
  rabbit_consumer worker2 worker --queue tour_task_queue --dot-ms 100
  for t in "${tasks[@]}"; do
    expect_eq "new-task output" "$(rabbit-ops new-task --queue tour_task_queue "$tag" "$t")" " [x] Sent $tag $t"
  done
  for t in "${tasks[@]}"; do
    total=0
    for ((i = 0; i < 300 && total == 0; i++)); do
      total=$(cat "$WORK/worker1.out" "$WORK/worker2.out" | grep -cxF " [x] Received $tag $t" || true)
      [ "$total" -gt 0 ] || sleep 0.05
    done
    expect_eq "workers that received '$t'" "$total" 1
  done
  # Fair dispatch with prefetch 1: both workers worked.
  a=$(grep -cF " [x] Received $tag" "$WORK/worker1.out" || true)
  b=$(grep -cF " [x] Received $tag" "$WORK/worker2.out" || true)
  echo "worker 1 took $a tasks, worker 2 took $b"
  if [ "$a" -lt 1 ] || [ "$b" -lt 1 ]; then say "one worker got everything"; return 1; fi
  # Every task is done (acknowledged after the work) before we stop the workers.
  for ((i = 0; i < 300; i++)); do
    total=$(cat "$WORK/worker1.out" "$WORK/worker2.out" | grep -cxF " [x] Done" || true)
    [ "$total" -ge 5 ] && break
    sleep 0.05
  done
  [ "$total" -ge 5 ] || { say "only $total tasks done"; return 1; }
  pr -m -t -w 100 "$WORK/worker1.out" "$WORK/worker2.out"
}

rabbit_fanout() {
  rabbit_counted logs1 receive-logs --count 2
  rabbit_counted logs2 receive-logs --count 2
  expect_eq "emit-log output" "$(rabbit-ops emit-log)" " [x] Sent info: Hello World!"
  rabbit-ops emit-log "warning: tour $$"
  local want
  want=$(printf '%s\n' " [*] Waiting for logs. To exit press CTRL+C" " [x] info: Hello World!" " [x] warning: tour $$")
  wait_count logs1
  wait_count logs2
  expect_eq "receiver 1" "$(cat "$WORK/logs1.out")" "$want"
  expect_eq "receiver 2" "$(cat "$WORK/logs2.out")" "$want"
  cat "$WORK/logs1.out"
}

rabbit_direct() {
  rabbit_counted errors receive-logs-direct --count 2 warning error
  rabbit_counted everything receive-logs-direct --count 4 info warning error
  expect_eq "emit-log-direct output" "$(rabbit-ops emit-log-direct)" " [x] Sent info:Hello World!"
  rabbit-ops emit-log-direct debug "nobody binds debug"
  rabbit-ops emit-log-direct warning "disk 90% full"
  rabbit-ops emit-log-direct error "disk full"
  rabbit-ops emit-log-direct error "end of tour $$"
  wait_count errors
  wait_count everything
  local w=" [*] Waiting for logs. To exit press CTRL+C"
  expect_eq "warning+error receiver" "$(cat "$WORK/errors.out")" \
    "$(printf '%s\n' "$w" " [x] warning:disk 90% full" " [x] error:disk full")"
  expect_eq "info+warning+error receiver" "$(cat "$WORK/everything.out")" \
    "$(printf '%s\n' "$w" " [x] info:Hello World!" " [x] warning:disk 90% full" " [x] error:disk full" " [x] error:end of tour $$")"
  cat "$WORK/everything.out"
  # No severity: a usage error naming what is missing, exit 2.
  local rc=0 err
  err=$(rabbit-ops receive-logs-direct 2>&1 >/dev/null) || rc=$?
  expect_eq "usage line" "$err" "$(printf '%s\n' \
    "error: no severity given: name the ones to receive, like info warning error" \
    "Run 'rabbit-ops receive-logs-direct --help' for usage.")"
  expect_eq "usage exit code" "$rc" 2
}

rabbit_topic() {
  rabbit_counted q1 receive-logs-topic --count 4 '*.orange.*'
  rabbit_counted q2 receive-logs-topic --count 5 '*.*.rabbit' 'lazy.#'
  local k
  for k in quick.orange.rabbit lazy.orange.elephant quick.orange.fox lazy.brown.fox \
    quick.brown.fox quick.orange.new.rabbit lazy.orange.new.rabbit end.orange.rabbit; do
    expect_eq "emit-log-topic output" "$(rabbit-ops emit-log-topic "$k" "tour $$")" " [x] Sent $k:tour $$"
  done
  wait_count q1
  wait_count q2
  local w=" [*] Waiting for logs. To exit press CTRL+C"
  expect_eq "*.orange.* receiver" "$(cat "$WORK/q1.out")" "$(printf '%s\n' "$w" \
    " [x] quick.orange.rabbit:tour $$" " [x] lazy.orange.elephant:tour $$" \
    " [x] quick.orange.fox:tour $$" " [x] end.orange.rabbit:tour $$")"
  expect_eq "*.*.rabbit + lazy.# receiver" "$(cat "$WORK/q2.out")" "$(printf '%s\n' "$w" \
    " [x] quick.orange.rabbit:tour $$" " [x] lazy.orange.elephant:tour $$" \
    " [x] lazy.brown.fox:tour $$" " [x] lazy.orange.new.rabbit:tour $$" \
    " [x] end.orange.rabbit:tour $$")"
  pr -m -t -w 100 "$WORK/q1.out" "$WORK/q2.out"
}

rabbit_headers() {
  rabbit_counted all receive-logs-headers --count 2 format=pdf type=report
  rabbit_counted any receive-logs-headers --match any --count 3 format=pdf type=report
  expect_eq "emit-log-headers output" "$(rabbit-ops emit-log-headers format=pdf type=report "monthly report")" \
    " [x] Sent format=pdf,type=report:monthly report"
  rabbit-ops emit-log-headers format=pdf "a pdf"
  rabbit-ops emit-log-headers type=log "neither"
  rabbit-ops emit-log-headers format=pdf type=report "end of tour $$"
  wait_count all
  wait_count any
  local w=" [*] Waiting for logs. To exit press CTRL+C"
  expect_eq "x-match all receiver" "$(cat "$WORK/all.out")" "$(printf '%s\n' "$w" \
    " [x] format=pdf,type=report:monthly report" " [x] format=pdf,type=report:end of tour $$")"
  expect_eq "x-match any receiver" "$(cat "$WORK/any.out")" "$(printf '%s\n' "$w" \
    " [x] format=pdf,type=report:monthly report" " [x] format=pdf:a pdf" \
    " [x] format=pdf,type=report:end of tour $$")"
  cat "$WORK/any.out"
}

rabbit_rpc() {
  rabbit_consumer rpc_server rpc-server --queue tour_rpc_queue
  expect_eq "server's first line" "$(head -n 1 "$WORK/rpc_server.out")" " [x] Awaiting RPC requests"
  expect_eq "rpc-client output" "$(rabbit-ops rpc-client --queue tour_rpc_queue 30)" \
    "$(printf '%s\n' " [x] Requesting fib(30)" " [.] Got 832040")"
  rabbit_wait rpc_server " [.] fib(30)"
  local rc=0 err
  err=$(rabbit-ops rpc-client --queue tour_rpc_queue -- -1 2>&1 >/dev/null) || rc=$?
  expect_eq "bad request" "$err" "error: the server refused fib(-1): n must not be negative (got -1)"
  expect_eq "bad request exit code" "$rc" 1
  expect_eq "four requests at once" "$(rabbit-ops rpc-client --queue tour_rpc_queue --concurrency 4 10 | grep -c 'Got 55')" 4
  cat "$WORK/rpc_server.out"
}

rabbit_confirms() {
  local out
  out=$(rabbit-ops publisher-confirms --messages 10000)
  echo "$out"
  expect_eq "strategies reported" "$(grep -c '^Published 10,000 messages' <<<"$out")" 3
}

rabbit_errors() {
  # Port 1 (tcpmux) is closed on any ordinary machine.
  local rc=0 err start
  start=$(date +%s)
  err=$(rabbit-ops --connect-timeout 2 --url "amqp://guest:guest@127.0.0.1:1/%2f" send 2>&1) || rc=$?
  expect_eq "unreachable broker" "$err" "error: cannot connect to amqp://guest:***@127.0.0.1:1/%2f: connection refused"
  expect_eq "exit code" "$rc" 1
  [ $(($(date +%s) - start)) -le 3 ] || { say "took longer than the 2 s timeout"; return 1; }
  echo "$err"
}

rabbit_nothing_lost() {
  # 200 tasks from stdin, confirmed by the broker (the default for new-task), two workers.
  # Fixed names: every tour reuses (and leaves, empty) the same queue and exchange.
  local q="lessons-tour-quorum-tasks" out total
  rabbit_consumer w1 worker --queue "$q" --dot-ms 1
  rabbit_consumer w2 worker --queue "$q" --dot-ms 1
  out=$(seq -f 'task-%03g.' 1 200 | rabbit-ops new-task --stdin --queue "$q")
  expect_eq "Sent lines" "$(grep -c '^ \[x\] Sent task-' <<<"$out")" 200
  for ((i = 0; i < 300; i++)); do
    total=$(cat "$WORK/w1.out" "$WORK/w2.out" | grep -cxF " [x] Done" || true)
    [ "$total" -ge 200 ] && break
    sleep 0.05
  done
  expect_eq "tasks done" "$total" 200
  echo "worker 1 did $(grep -cxF ' [x] Done' "$WORK/w1.out"), worker 2 $(grep -cxF ' [x] Done' "$WORK/w2.out")"
  # An unroutable message with --confirm comes back and is reported (exit 1).
  local rc=0 err
  err=$(rabbit-ops emit-log-direct --confirm --exchange "lessons-tour-x" nobody "lost?" 2>&1 >/dev/null) || rc=$?
  expect_eq "unroutable exit code" "$rc" 1
  grep -F "returned as unroutable" <<<"$err"
}

rabbit_bench() {
  local out
  out=$(rabbit-ops bench --messages 5000 --confirm)
  echo "$out"
  expect_eq "lost" "$(grep -c '^lost: 0, ' <<<"$out")" 1
}

# Streams (issue 20): the tour's streams are its own (tour-*-stream-<pid>), deleted at the end of
# the lesson with rabbitmqctl where the broker is this machine's (a stream is a queue to it).
rabbit_stream_gone() {
  [ -n "${AMQP_URL:-}${RABBITMQ_STREAM_URL:-}" ] && return 0
  timeout 60 rabbitmqctl -q delete_queue "$1" >/dev/null 2>&1 || true
}

rabbit_stream_hello() {
  local s="tour-hello-stream-$$" out rc=0
  expect_eq "stream-send output" "$(rabbit-ops stream-send --stream "$s")" "Sent message to stream: $s"
  rabbit-ops stream-send --stream "$s" "from the tour" >/dev/null
  out=$(rabbit-ops stream-receive --stream "$s" --count 2) || rc=$?
  rabbit_stream_gone "$s"
  expect_eq "stream-receive exit code" "$rc" 0
  expect_eq "stream-receive output" "$out" " [*] Waiting for messages. To exit press CTRL+C
Got message: Hello, World! with offset: 0
Got message: from the tour with offset: 1"
  printf '%s\n' "$out"
}

rabbit_stream_offsets() {
  local s="tour-offset-tracking-stream-$$" sent first second rc=0
  sent=$(rabbit-ops offset-tracking-send --stream "$s" --messages 20) || rc=$?
  first=$(rabbit-ops offset-tracking-receive --stream "$s" --count 5) || rc=$?
  second=$(rabbit-ops offset-tracking-receive --stream "$s") || rc=$?
  rabbit_stream_gone "$s"
  expect_eq "exit codes" "$rc" 0
  expect_eq "offset-tracking-send output" "$sent" "Publishing 20 messages
Messages confirmed."
  # Stopped after 5 messages, the consumer stored offset 4: the next run goes on at hello5.
  expect_eq "second run's first message" "$(sed -n 3p <<<"$second")" "Got message: hello5 with offset: 5"
  expect_eq "second run's last line" "$(tail -n 1 <<<"$second")" "Done consuming first_offset: 5 last_offset: 19"
  printf '%s\n' "$first" "$second" | grep -v '^Got message: hello\([6-9]\|1[0-8]\)'
}

# rabbit_run FUNCTION: runs a lesson function and stops the consumers it started in the
# background, however it ends. (`lesson` runs the function in a subshell, so the processes it
# starts are known there, not to the cleanup `lesson` does afterwards.)
rabbit_run() {
  trap cleanup_bg EXIT
  "$@"
}

lesson "rabbit 1 hello world" rabbit_run rabbit_hello
lesson "rabbit 2 work queues" rabbit_run rabbit_work
lesson "rabbit 3 publish/subscribe" rabbit_run rabbit_fanout
lesson "rabbit 4 routing" rabbit_run rabbit_direct
lesson "rabbit 5 topics" rabbit_run rabbit_topic
lesson "rabbit 6 rpc" rabbit_run rabbit_rpc
lesson "rabbit 7 publisher confirms" rabbit_run rabbit_confirms
lesson "rabbit headers exchange" rabbit_run rabbit_headers
lesson "rabbit unreachable broker" rabbit_run rabbit_errors
lesson "rabbit nothing lost (confirms, stdin, returns)" rabbit_run rabbit_nothing_lost
lesson "rabbit bench" rabbit_run rabbit_bench
lesson "rabbit streams 1 hello world" rabbit_run rabbit_stream_hello
lesson "rabbit streams 2 offset tracking" rabbit_run rabbit_stream_offsets
