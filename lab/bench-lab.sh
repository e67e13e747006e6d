#!/usr/bin/env bash
# make bench-lab: both approaches at 1,000,000 connections in the container lab (both ends on this
# host; 20 client containers for approach 1), each beside the engine's own native loopback run made
# just before it, so the ratio compares like with like on a noisy machine.
# ROUNDS=k repeats each round k times and ends with each approach's median ratio (target: 1.10x).
# CONNTRACK [on off]: the lab's runs of each round, tracked (Docker's default: each container's
# namespace tracks its end of every connection), untracked (off) and tracked by the server's namespace
# only (server), as C1M_CONNTRACK says, beside one native run; LIVE=60s adds the live hold to every run.
set -euo pipefail
cd "$(dirname "$0")/.."
. lab/bench_common.sh bench-lab
CONNTRACK=${CONNTRACK:-on off}
for tracking in $CONNTRACK; do
  [[ "$tracking" =~ ^(on|off|server)$ ]] || { echo "bench-lab: CONNTRACK=$CONNTRACK: expected words of on, off and server" >&2; exit 2; }
done
ratios=()  # approach/tracking:lab seconds:native seconds, one per lab run that reached the target
p99_ratios=()  # approach/tracking:lab live ping RTT p99 ms:native's, with LIVE
run_round() {  # approach: its native run, then the lab's (tracked and untracked, as CONNTRACK says), each ratio
  local approach=$1 lab native tracking name
  native="results/$(date -u +%Y%m%dT%H%M%SZ)-$approach-native.json"
  # One native run, the host as it is: this script's ROUNDS and CONNTRACK are the lab's, not its.
  RECORD=$native SKIP_FLOOR=1 ROUNDS=1 CONNTRACK=on APPROACHES=$approach N=$N HOLD=$HOLD lab/bench-native.sh > "results/.bench-lab-native.log" 2>&1 ||
    { tail -5 results/.bench-lab-native.log; echo "bench-lab: the native $approach run failed"; exit 1; }
  for tracking in $CONNTRACK; do
    case $tracking in on) name=$approach/tracked ;; off) name=$approach/untracked ;; *) name=$approach/server-tracked ;; esac
    wait_for_quiet_host | tee -a "$summary"
    C1M_CONNTRACK=$tracking APPROACH=$approach N=$N HOLD=$HOLD lab/lab.sh up > "results/.bench-lab-$approach-$tracking.log" 2>&1 || true
    lab=$(cat build/lab/last-record 2>/dev/null || true)  # lab-up leaves its record's path there
    lab/lab.sh down >/dev/null 2>&1 || true
    [ -n "$lab" ] || { tail -5 "results/.bench-lab-$approach-$tracking.log"; echo "bench-lab: no lab record for $name"; exit 1; }
    lab/bench_report.py lab "$name" "$native" "$lab" | tee -a "$summary"
    local lab_s native_s
    lab_s=$(lab/bench_report.py ttt "$lab") native_s=$(lab/bench_report.py ttt "$native")
    [ -n "$lab_s" ] && [ -n "$native_s" ] && ratios+=("$name:$lab_s:$native_s")
    local lab_p99 native_p99  # the live hold's tail, the lab's beside the native run's (target: 1.2x)
    lab_p99=$(lab/bench_report.py rtt "$lab" p99) native_p99=$(lab/bench_report.py rtt "$native" p99)
    if [ -n "$lab_p99" ] && [ -n "$native_p99" ]; then
      p99_ratios+=("$name:$lab_p99:$native_p99")
      echo "  live rtt p99: lab $lab_p99 ms / native $native_p99 ms" | tee -a "$summary"
    fi
  done
  return 0
}

for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS" | tee -a "$summary"
  for approach in ${APPROACHES:-multi-ip multi-port}; do run_round "$approach"; done
done
lab/bench_report.py medians "lab / native" 1.10 "${ratios[@]}" | tee -a "$summary"
[ ${#p99_ratios[@]} -gt 0 ] && lab/bench_report.py medians "live ping RTT p99, lab / native" 1.20 "${p99_ratios[@]}" | tee -a "$summary"
echo "summary: $summary"
