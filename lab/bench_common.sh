# The benchmarks' common start, sourced as `. lab/bench_common.sh NAME` from the repository's root:
# the run's size (N [1000000], HOLD [10s], ROUNDS [1]), a summary file results/<stamp>-NAME.txt, and
# quiet.sh's wait_for_quiet_host.
N=${N:-1000000}
HOLD=${HOLD:-10s}
ROUNDS=${ROUNDS:-1}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary="results/$stamp-$1.txt"
mkdir -p results
. lab/quiet.sh
: > "$summary"
