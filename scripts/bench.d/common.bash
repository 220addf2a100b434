# shellcheck shell=bash
# Shared by the benchmarks scripts/bench.d/*.sh, which source it first: strict mode,
# scripts/lib.sh, a scratch folder $WORK removed at exit (with every server started), the
# repository as the working folder; the C references and the rounds of servers measured side by
# side. (Not a benchmark itself: scripts/bench runs only the *.sh files here.)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
use_scratch
cd "$ROOT"

# c_reference OUT SRC [GCC_FLAGS...]: builds the C reference SRC with gcc -O2 into $WORK/OUT.
c_reference() {
  local out=$1 src=$2
  shift 2
  have gcc || die "gcc is needed for the C reference (apt-get install gcc)"
  gcc -O2 "$@" -o "$WORK/$out" "$src"
}

# The servers compared (`servers`, in the order of the table), their command lines and labels.
servers=()
declare -A server_cmd=() server_label=()

# contender NAME LABEL CMD: one more server to compare, started from the command line CMD
# (split into words) and shown as LABEL.
contender() {
  servers+=("$1")
  server_label[$1]=$2
  server_cmd[$1]=$3
}

# What `rounds` fills: every figure of each server (space-separated) and their medians.
declare -A figures=() cpu_figures=() med=() medcpu=()

# rounds ADDR FIGURE CPU WHAT: prints the machine's cores and load, then WHAT (the line saying
# what is measured); then ROUNDS rounds of the servers named in the array `servers`, interleaved:
# each started from its command line server_cmd[NAME] (serve), measured by the benchmark's own
# `load "${!ADDR}"` (ADDR names what serve sets: PORT or ADDR), and stopped. The values `load`
# leaves in the variables named FIGURE and CPU are gathered in figures[NAME] and cpu_figures[NAME],
# their medians in med[NAME] and medcpu[NAME].
rounds() {
  local addr=$1 figure=$2 cpu=$3 r n
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
  echo "$4"
  for ((r = 1; r <= ROUNDS; r++)); do
    for n in "${servers[@]}"; do
      # shellcheck disable=SC2086 # server_cmd[NAME] is a command line, split into words on purpose
      serve "bench-$n-$r" ${server_cmd[$n]}
      load "${!addr}"
      figures[$n]="${figures[$n]:-} ${!figure}"
      cpu_figures[$n]="${cpu_figures[$n]:-} ${!cpu}"
      stop_server
    done
  done
  for n in "${servers[@]}"; do
    med[$n]=$(median <<<"${figures[$n]}")
    medcpu[$n]=$(median <<<"${cpu_figures[$n]}")
  done
}

# versus NAME REF: NAME's median over REF's, two decimals ("-" when REF was not measured).
versus() {
  if [ -n "${med[$2]:-}" ]; then ratio "${med[$1]}" "${med[$2]}"; else echo -; fi
}
