#!/usr/bin/env bash
# make bench-lab: both approaches at 1,000,000 connections in the container lab (both ends on this
# host; 20 client containers for approach 1), each beside the engine's own native loopback run made
# just before it, so the ratio compares like with like on a noisy machine.
# ROUNDS=k repeats each pair k times and ends with each approach's median ratio (target: 1.25x).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
HOLD=${HOLD:-10s}
ROUNDS=${ROUNDS:-1}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary="results/$stamp-bench-lab.txt"
mkdir -p results
. lab/quiet.sh
: > "$summary"
ratios=results/.bench-lab-ratios
: > "$ratios"
run_pair() {  # approach: its native run, then the lab's, and their ratio
  local approach=$1 native lab
  rm -f results/.native-records
  SKIP_FLOOR=1 APPROACHES=$approach N=$N HOLD=$HOLD lab/bench-native.sh > "results/.bench-lab-native.log" 2>&1 ||
    { tail -5 results/.bench-lab-native.log; echo "bench-lab: the native $approach run failed"; exit 1; }
  native=$(tail -1 results/.native-records)
  wait_for_quiet_host | tee -a "$summary"
  APPROACH=$approach N=$N HOLD=$HOLD lab/lab.sh up > "results/.bench-lab-$approach.log" 2>&1 || true
  lab=$(cat build/lab/last-record 2>/dev/null || true)  # lab-up leaves its record's path there
  lab/lab.sh down >/dev/null 2>&1 || true
  [ -n "$lab" ] || { tail -5 "results/.bench-lab-$approach.log"; echo "bench-lab: no lab record for $approach"; exit 1; }
  python3 - "$approach" "$native" "$lab" "$ratios" <<'PY' | tee -a "$summary"
import json, sys
approach, native, lab = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
n, l = native["results"], lab["results"]
print(f"{approach}: lab record {sys.argv[3]} ({lab['status']}); native record {sys.argv[2]} ({native['status']})")
print(f"  lab: established client {l['established_peak_client']} server {l['established_peak_server']} errors {l['errors_total']}")
if n["time_to_target_s"] and l["time_to_target_s"]:
    print(f"  time to 1M: lab {l['time_to_target_s']:.2f} s / native {n['time_to_target_s']:.2f} s = {l['time_to_target_s'] / n['time_to_target_s']:.3f}")
    open(sys.argv[4], "a").write(f"{approach} {l['time_to_target_s']} {n['time_to_target_s']}\n")
else:
    print("  time to 1M: not reached by one side; no ratio")
addresses = sorted({a for p in lab.get("participants", []) for a in p.get("addresses", [])})
ports = lab["topology"].get("server_listen") or []
print(f"  {len(addresses)} distinct client addresses; server listening on {len(ports)} port(s): {', '.join(ports[:3])}{' ...' if len(ports) > 3 else ''}")
parts = lab.get("participants", [])
ranges = sorted({p['sysctls']['net.ipv4.ip_local_port_range'] for p in parts if p.get('sysctls')})
nofiles = sorted({p['limits']['nofile_hard'] for p in parts if p.get('limits')})
srv = lab.get("server") or {}
print(f"  read back in the containers: clients ip_local_port_range {ranges}, nofile {nofiles}; server somaxconn "
      f"{srv.get('sysctls', {}).get('namespaced', {}).get('net.core.somaxconn')}, nofile {srv.get('limits', {}).get('nofile_hard')}")
mem = lab["memory"]
fig = lambda x: f"{x:.1f}" if isinstance(x, (int, float)) else "n/a"
print(f"  memory: kernel {fig(mem['kernel_bytes_per_socket'])} B/socket, user {fig(mem['user_bytes_per_connection_client'])} B/conn client, "
      f"{fig(mem['user_bytes_per_connection_server'])} B/conn server")
PY
}

for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS" | tee -a "$summary"
  for approach in ${APPROACHES:-multi-ip multi-port}; do run_pair "$approach"; done
done
lab/ratio_medians.py "$ratios" "lab / native" 1.25 | tee -a "$summary"
echo "summary: $summary"
