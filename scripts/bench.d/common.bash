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

# What `rounds` fills: every figure of each server (space-separated) and their medians.
declare -A results=() cpus=() med=() medcpu=()

# rounds ADDR FIGURE CPU: ROUNDS rounds of the servers named in the array `names`, interleaved:
# each started from its command line cmd[NAME] (serve), measured by the benchmark's own
# `load "${!ADDR}"` (ADDR names what serve sets: PORT or ADDR), and stopped. The values `load`
# leaves in the variables named FIGURE and CPU are gathered in results[NAME] and cpus[NAME],
# their medians in med[NAME] and medcpu[NAME].
rounds() {
  local addr=$1 figure=$2 cpu=$3 r n
  for ((r = 1; r <= ROUNDS; r++)); do
    for n in "${names[@]}"; do
      # shellcheck disable=SC2086 # cmd[NAME] is a command line, split into words on purpose
      serve "bench-$n-$r" ${cmd[$n]}
      load "${!addr}"
      results[$n]="${results[$n]:-} ${!figure}"
      cpus[$n]="${cpus[$n]:-} ${!cpu}"
      stop_server
    done
  done
  for n in "${names[@]}"; do
    med[$n]=$(median <<<"${results[$n]}")
    medcpu[$n]=$(median <<<"${cpus[$n]}")
  done
}
