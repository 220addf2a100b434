# shellcheck shell=bash
# Helpers shared by the scripts: scripts/services and services.d/*.sh, scripts/setup and
# scripts/test, scripts/tour and tour.d/*.sh, bench.d/*.sh. Source it; it only defines ROOT, BIN
# (the release binaries, put first on PATH) and functions. A script that starts background
# processes or needs a scratch folder calls use_scratch.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ $TARGET == /* ]] || TARGET="$ROOT/$TARGET"
BIN="${BIN:-$TARGET/release}"
export PATH="$BIN:$PATH"
FAILED=0
BG_PIDS=()

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---- packages ----

# apt_install LOG PKG...: `apt-get update`, then `apt-get install -y PKG...` (Debian/Ubuntu, as
# root), their output in LOG. Returns 1 with APT_ERR saying why when it cannot.
apt_install() {
  local log=$1
  shift
  APT_ERR=''
  if ! have apt-get || ! have dpkg; then
    APT_ERR="not installed: $*; this is not a Debian/Ubuntu machine, so install it yourself"
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    APT_ERR="not installed: $*; run: sudo apt-get update && sudo apt-get install -y $*"
    return 1
  fi
  mkdir -p "$(dirname "$log")"
  say "installing $* with apt-get (log: $log)"
  if ! timeout 600 apt-get -o DPkg::Lock::Timeout=120 update >"$log" 2>&1; then
    say "apt-get update failed (last line: $(tail -n 1 "$log")); trying the install anyway"
  fi
  if ! DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get -o DPkg::Lock::Timeout=120 \
    install -y "$@" >>"$log" 2>&1; then
    APT_ERR="apt-get install $* failed: $(grep -E '^(E:|dpkg:)' "$log" | tail -n 1 || tail -n 1 "$log") (log: $log)"
    return 1
  fi
  hash -r
}

# ensure_shellcheck: installs shellcheck from Debian's packages when it is missing (as apt_install).
ensure_shellcheck() {
  have shellcheck || apt_install "$TARGET/apt-shellcheck.log" shellcheck
}

# shell_scripts: every shell script of the repository, one per line, relative to ROOT (what
# scripts/test lints): scripts/* that are *.sh or start with a shell's #!, scripts/*.d/*.sh,
# .ci/run.
shell_scripts() {
  local f
  (
    cd "$ROOT"
    for f in scripts/* scripts/*.d/*.sh .ci/run; do
      [ -f "$f" ] || continue
      case $f in
        *.sh | .ci/run) echo "$f" ;;
        *) head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh$' && echo "$f" ;;
      esac
    done
  )
}

# ---- readiness: the tools' own `ping` (scripts/services) ----

# build_tools: builds redis-ops and rabbit-ops (quick when they are up to date). Under sudo, or
# without cargo, binaries already built are used as they are (root must not own files in target/).
build_tools() {
  local built=1
  [ -x "$BIN/redis-ops" ] && [ -x "$BIN/rabbit-ops" ] || built=0
  if [ "$built" = 1 ] && { [ -n "${SUDO_USER:-}" ] || ! have cargo; }; then return 0; fi
  have cargo || die "cargo not found: scripts/services checks readiness with redis-ops and rabbit-ops, built from this workspace; install Rust (https://rustup.rs) first"
  # TOOLS_PROFILE=dev (with BIN=target/debug): the debug build, which scripts/test builds
  # anyway for the tests, instead of a release build of its own (minutes of linking in CI).
  local -a cargo_profile=(--release)
  [ "${TOOLS_PROFILE:-release}" = dev ] && cargo_profile=()
  [ "$built" = 1 ] || say "building redis-ops and rabbit-ops (cargo build ${cargo_profile[*]}; minutes the first time)"
  (cd "$ROOT" && cargo build "${cargo_profile[@]}" --locked --quiet -p redis-ops -p rabbit-ops) ||
    die "cargo build ${cargo_profile[*]} -p redis-ops -p rabbit-ops failed (above)"
}

# tool_ping TOOL WAIT ARGS...: runs `TOOL -q ARGS... ping --wait WAIT` (WAIT 0: one try) and
# returns its exit code (0 ready, 1 not, 2 usage, 130 interrupted). Its report lines: PING_OK
# (stdout, `ok <url>: <server>, round trip 0.4 ms`) and PING_ERR (stderr, without `error: ` and
# without the usage hint). The URLs in them are the tool's, passwords shown as ***.
tool_ping() {
  local tool=$1 wait=$2 out errf line rc=0
  shift 2
  local -a w=()
  [ "$wait" = 0 ] || w=(--wait "$wait")
  errf=$(mktemp "${TMPDIR:-/tmp}/ping.XXXXXX")
  out=$(env -u RUST_LOG "$BIN/$tool" -q "$@" ping "${w[@]}" 2>"$errf" </dev/null) || rc=$?
  PING_OK=() PING_ERR=()
  # shellcheck disable=SC2034 # PING_OK is read by the callers
  [ -z "$out" ] || mapfile -t PING_OK <<<"$out"
  while IFS= read -r line; do
    case $line in
      '' | "Run '"*) ;;
      *) PING_ERR+=("${line#error: }") ;;
    esac
  done <"$errf"
  rm -f "$errf"
  [ "$rc" = 0 ] || [ "${#PING_ERR[@]}" -gt 0 ] || PING_ERR=("$tool ping exited with $rc and said nothing")
  return "$rc"
}

# ping_errors: PING_ERR on one line.
ping_errors() {
  local IFS=';'
  printf '%s' "${PING_ERR[*]}" | sed 's/;/; /g'
}

# ---- services: state, locks, daemons (scripts/services and services.d/*.sh) ----

note() { printf 'services: %s\n' "$*" >&2; }
systemd_runs() { [ -d /run/systemd/system ] && have systemctl; }

ensure_state_dir() {
  if ! mkdir -p "$STATE_DIR" 2>/dev/null || [ ! -w "$STATE_DIR" ]; then
    STATE_DIR=/tmp/lessons-services-$(id -u)
    mkdir -p "$STATE_DIR" || die "cannot create a state folder ($STATE_DIR)"
  fi
}

# take_lock: one `up` or `down` at a time (scripts/test may run in parallel). Daemons are started
# with launch, which closes fd 9, so that they never hold this lock.
take_lock() {
  ensure_state_dir
  have flock || return 0
  exec 9>"$STATE_DIR/lock"
  flock -w 600 9 || die "another scripts/services has held $STATE_DIR/lock for 600s"
}

# close_fds: run in the subshell that starts a daemon. Closes every inherited descriptor above 2:
# a daemon holding a caller's pipe would keep `scripts/services up | cat` (or a CI log
# collector) waiting forever, and one holding fd 9 would hold the lock.
close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# launch LOG SECS CMD...: runs CMD (a daemon that detaches, or a service command) from /, in its
# own session, with no inherited descriptors, its output appended to LOG, for at most SECS.
launch() {
  local log=$1 secs=$2
  shift 2
  (close_fds; cd / && timeout "$secs" setsid "$@" </dev/null >>"$log" 2>&1)
}

# state_get SERVICE KEY: a value from $STATE_DIR/SERVICE.state (key=value lines), or nothing.
state_get() {
  local f=$STATE_DIR/$1.state
  [ -f "$f" ] || return 0
  sed -n "s/^$2=//p" "$f" | tail -n 1
}
state_put() { # state_put SERVICE key=value...
  local svc=$1
  shift
  ensure_state_dir
  printf '%s\n' "$@" "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STATE_DIR/$svc.state"
}
state_drop() { rm -f "$STATE_DIR/$1.state"; }

# proc_is PID COMM: a live process with that name.
proc_is() {
  [[ ${1:-} =~ ^[0-9]+$ ]] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
# ours SERVICE COMM: the record of SERVICE names a process COMM that still runs (not a recycled
# pid).
ours() {
  local pid
  pid=$(state_get "$1" pid)
  [ -n "$pid" ] && proc_is "$pid" "$2"
}

# gone PID COMM TENTHS: waits up to TENTHS tenths of a second for PID to go; 1 if it still runs.
gone() {
  local i
  for ((i = 0; i < $3; i++)); do proc_is "$1" "$2" || return 0; sleep 0.1; done
  ! proc_is "$1" "$2"
}
# stop_pid PID COMM TENTHS: gone, else kill -KILL; 1 if it still runs after that.
stop_pid() {
  gone "$@" && return 0
  kill -KILL "$1" 2>/dev/null || true
  gone "$1" "$2" 5
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT (a connect, nothing sent).
# shellcheck disable=SC2016 # $1 is the inner bash's
port_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

# listener_pid PORT: pid of the process listening on 127.0.0.1:PORT (needs ss; may be empty).
listener_pid() {
  have ss || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}
# who_listens PORT: "; listening there: redis-server pid 12", "; nothing listens on
# 127.0.0.1:PORT", or nothing when it cannot tell.
who_listens() {
  local u
  if ! port_open "$1"; then printf '; nothing listens on 127.0.0.1:%s' "$1"; return; fi
  have ss || return 0
  u=$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n 1 || true)
  [ -z "$u" ] || printf '; listening there: %s' "$(sed -E 's/users:\(\("([^"]*)",pid=([0-9]+).*/\1 pid \2/' <<<"$u")"
}

# service_status LABEL PING ENV STATE COMM PORT: the status lines of a service: PING 0 (one
# try), then each ok line with who started it, or NOT ready with the tool's reason and what
# listens on 127.0.0.1:PORT. With $ENV set, the URLs are its. Returns PING's exit code.
service_status() {
  local label=$1 ping=$2 env=$3 state=$4 comm=$5 port=$6 by line rc=0
  "$ping" 0 || rc=$?
  if [ -n "${!env:-}" ]; then
    by="$env, not managed here" port=''
  elif ours "$state" "$comm"; then
    by="started by scripts/services ($(state_get "$state" method)), pid $(state_get "$state" pid)"
  else
    by="not started by scripts/services"
  fi
  for line in "${PING_OK[@]}"; do printf '%-9s %s  (%s)\n' "$label" "$line" "$by"; done
  for line in "${PING_ERR[@]}"; do
    printf '%-9s NOT ready: %s%s\n' "$label" "$line" "$([ -z "$port" ] || who_listens "$port")"
  done
  return "$rc"
}

# service_plan PING ENV STATE COMM PORT WAIT WHAT HINT: the first step of `up` for a service.
# With $ENV set, waits up to WAIT seconds for it. Else a server answering on 127.0.0.1:PORT is
# reused; one listening there but not ready yet (loading, booting) is waited for, and one that
# refuses for good (a password, another protocol) is an error ending with HINT. START=1 (to be
# started) when nothing listens there.
service_plan() {
  local ping=$1 env=$2 state=$3 comm=$4 port=$5 wait=$6 what=$7 hint=$8
  START=0
  if [ -n "${!env:-}" ]; then
    "$ping" "$wait" || die "$env: $(ping_errors)"
    return 0
  fi
  if "$ping" 0; then
    ours "$state" "$comm" || state_drop "$state"
    return 0
  fi
  if port_open "$port"; then
    "$ping" "$wait" && return 0
    die "127.0.0.1:$port is taken by something that is not a usable $what: $(ping_errors)$(who_listens "$port") ($hint)"
  fi
  # shellcheck disable=SC2034 # read by scripts/services
  START=1
}

# install_packages PKG...: apt_install for the servers, without letting the packages' own start
# scripts start the daemons (they fail in containers and then fail the install; scripts/services
# starts them itself). Dies with the reason when it cannot.
install_packages() {
  ensure_state_dir
  if [ "$(id -u)" = 0 ] && have apt-get && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, from scripts/services\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    CLEANUP+=("rm -f /usr/sbin/policy-rc.d")
  fi
  local hint=''
  [ "$(id -u)" = 0 ] || hint='; or: sudo scripts/services up'
  apt_install "$STATE_DIR/apt.log" "$@" || die "$APT_ERR (or set REDIS_URL / AMQP_URL$hint)"
  state_put installed "packages=$*"
}

# ---- tour and benchmarks: background processes and a scratch folder ----

# use_scratch: WORK, a scratch folder removed at exit with every process started by start_bg.
use_scratch() {
  WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/lessons.XXXXXX")}"
  trap 'cleanup_bg; rm -rf "$WORK"' EXIT
}

# Kill every background process started with start_bg.
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
