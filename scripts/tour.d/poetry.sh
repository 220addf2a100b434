# shellcheck shell=bash
# The poetry lesson (notes §1.6): poetry-server, poetry-client over three servers, the
# transformation service, the slow server behind the caching proxy. Sourced by scripts/tour after
# scripts/lib.sh; each function runs as one lesson.

POETRY_POEMS="$ROOT/poetry/poems"

# shellcheck source=scripts/tour.d/common.bash
source "$ROOT/scripts/tour.d/common.bash"

poetry_lesson_fast() {
  trap cleanup_bg EXIT
  local a1 a2 a3 p1 rc=0
  tour_start poetry-1 poetry-server --port 0 "$POETRY_POEMS/ecstasy.txt"
  a1=$TOUR_ADDR p1=$TOUR_PID
  tour_start poetry-2 poetry-server --port 0 "$POETRY_POEMS/science.txt"
  a2=$TOUR_ADDR
  tour_start poetry-3 poetry-server --port 0 "$POETRY_POEMS/alla_sera.txt"
  a3=$TOUR_ADDR

  # Three downloads at once; stdout holds the poems, in argument order, and nothing else.
  poetry-client "$a1" "$a2" "$a3" >"$WORK/poems.txt" 2>"$WORK/client.err"
  cat "$WORK/client.err"
  cat "$POETRY_POEMS/ecstasy.txt" "$POETRY_POEMS/science.txt" "$POETRY_POEMS/alla_sera.txt" |
    cmp - "$WORK/poems.txt"
  expect_eq "task lines" "$(grep -c '^Task [123]: got [0-9]* bytes of poetry from ' "$WORK/client.err")" 3
  grep -q '^Got 3 poems in [0-9.]*s$' "$WORK/client.err"

  # One server is not there: exit 1, a line saying so, the other poem still printed.
  poetry-client "$a1" 127.0.0.1:1 >"$WORK/partial.txt" 2>"$WORK/partial.err" || rc=$?
  cat "$WORK/partial.err"
  expect_eq "client exit code with a refused server" "$rc" 1
  grep -qx 'Task 2: failed to get poetry from 127.0.0.1:1: connection refused' "$WORK/partial.err"
  cmp "$POETRY_POEMS/ecstasy.txt" "$WORK/partial.txt"

  tour_stop poetry-1 "$p1" "poetry-server: served 2 poem(s)"
}

poetry_lesson_transform() {
  trap cleanup_bg EXIT
  local service server port reply
  tour_start poetry-transform poetry-transform --port 0
  service=$TOUR_ADDR
  tour_start poetry-t-server poetry-server --port 0 "$POETRY_POEMS/ecstasy.txt"
  server=$TOUR_ADDR

  # The protocol by hand: one netstring in, one netstring back, then the service closes.
  port=${service##*:}
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '27:cummingsify.HERE IS MY POEM,' >&3
  reply=$(cat <&3)
  exec 3<&-
  echo "27:cummingsify.HERE IS MY POEM, -> $reply"
  expect_eq "transform reply" "$reply" "15:here is my poem,"

  # The client sends each poem through the service (ecstasy.txt is ASCII: tr lowercases it).
  poetry-client --transform "$service" "$server" >"$WORK/lower.txt" 2>"$WORK/lower.err"
  cat "$WORK/lower.err"
  tr '[:upper:]' '[:lower:]' <"$POETRY_POEMS/ecstasy.txt" | cmp - "$WORK/lower.txt"

  # Service gone: the original poem is kept, and the client says so.
  poetry-client --transform 127.0.0.1:1 "$server" >"$WORK/kept.txt" 2>"$WORK/kept.err"
  cat "$WORK/kept.err"
  grep -q 'keeping the original poem' "$WORK/kept.err"
  cmp "$POETRY_POEMS/ecstasy.txt" "$WORK/kept.txt"
}

poetry_lesson_proxy() {
  trap cleanup_bg EXIT
  local slow proxy_pid
  # The slow server: 64 bytes every 10 ms, never splitting a UTF-8 character.
  tour_start poetry-slow poetry-server --port 0 --delay 0.01 --num-bytes 64 "$POETRY_POEMS/alla_sera.txt"
  slow=$TOUR_ADDR
  tour_start poetry-proxy poetry-proxy "$slow" --port 0 -v
  proxy_pid=$TOUR_PID
  # Three clients at once share the proxy's one fetch; a fourth is served from the cache.
  poetry-client "$TOUR_ADDR" "$TOUR_ADDR" "$TOUR_ADDR" >"$WORK/proxied.txt"
  poetry-client "$TOUR_ADDR" >>"$WORK/proxied.txt"
  cat "$POETRY_POEMS/alla_sera.txt"{,,,} | cmp - "$WORK/proxied.txt"
  tour_stop poetry-proxy "$proxy_pid" "poetry-proxy: served 4 poem(s)"
  grep -q 'fetched upstream 1 time(s)' "$WORK/poetry-proxy.err"
}

lesson "poetry: server and client" poetry_lesson_fast
lesson "poetry: transform" poetry_lesson_transform
lesson "poetry: slow server, proxy" poetry_lesson_proxy
