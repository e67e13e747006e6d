#!/usr/bin/env bash
# make bench-swarm: 1,000,000 connections through the swarm lab (two nodes on this machine: the
# server on this engine, the clients on a second engine in its own namespace) beside the compose lab's
# run made just before it, as a ratio of times to target. Both "hosts" share one kernel: this measures
# what the orchestration costs, not capacity past one host.
# ROUNDS=k repeats the pair k times and ends with the median ratio. APPROACHES [multi-ip].
set -euo pipefail
cd "$(dirname "$0")/.."
. lab/bench_common.sh bench-swarm
ratios=()  # approach:swarm seconds:compose seconds
run_one() {  # script approach log: prints the record's path
  APPROACH=$2 N=$N HOLD=$HOLD "$1" up > "$3" 2>&1 || true
  cat build/lab/last-record 2>/dev/null || true
  "$1" down >/dev/null 2>&1 || true
}
run_pair() {
  local approach=$1 compose swarm
  wait_for_quiet_host | tee -a "$summary"
  rm -f build/lab/last-record
  compose=$(run_one lab/lab.sh "$approach" "results/.bench-swarm-compose.log")
  [ -n "$compose" ] || { tail -5 results/.bench-swarm-compose.log; echo "bench-swarm: no compose lab record for $approach"; exit 1; }
  wait_for_quiet_host | tee -a "$summary"
  rm -f build/lab/last-record
  swarm=$(run_one lab/swarm.sh "$approach" "results/.bench-swarm-swarm.log")
  [ -n "$swarm" ] || { tail -5 results/.bench-swarm-swarm.log; echo "bench-swarm: no swarm lab record for $approach"; exit 1; }
  lab/bench_report.py swarm "$approach" "$compose" "$swarm" | tee -a "$summary"
  local a b
  a=$(lab/bench_report.py ttt "$swarm") b=$(lab/bench_report.py ttt "$compose")
  [ -n "$a" ] && [ -n "$b" ] && ratios+=("$approach:$a:$b")
  return 0
}
for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS" | tee -a "$summary"
  for approach in ${APPROACHES:-multi-ip}; do run_pair "$approach"; done
done
lab/bench_report.py medians "swarm / compose" - "${ratios[@]}" | tee -a "$summary"
echo "summary: $summary"
