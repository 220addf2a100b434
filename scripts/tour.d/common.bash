# shellcheck shell=bash
# Shared by the lesson parts scripts/tour.d/echo.sh and poetry.sh, which source it (after
# scripts/lib.sh): a server started in the background and stopped as a lesson expects. (Not a
# part itself: scripts/tour sources only the *.sh files here.)

# tour_start NAME CMD...: starts a server in the background, prints its first line and sets
# TOUR_ADDR and TOUR_PID from it: the line ends in the address listened on, ip:port (then "." or
# " (udp)"); what comes before " on " is skipped (poetry-proxy names its upstream first).
tour_start() {
  local name=$1 line
  shift
  start_bg "$name" "$@"
  TOUR_PID=$BG_PID
  line=$(first_line "$name")
  echo "$line"
  TOUR_ADDR=$(addr_in "${line##* on }")
  [ -n "$TOUR_ADDR" ] || { echo "no address in: $line"; return 1; }
}

# tour_stop NAME PID SUMMARY: SIGTERM to PID; expects exit 0 and a line of NAME's stderr that
# starts with SUMMARY (the server's summary).
tour_stop() {
  local name=$1 pid=$2 summary=$3 rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  cat "$WORK/$name.err"
  expect_eq "$name exit code" "$rc" 0
  grep -q "^$summary" "$WORK/$name.err"
}
