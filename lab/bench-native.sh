#!/usr/bin/env bash
# make bench-native: both of the article's approaches at 1,000,000 connections on loopback, both ends
# on this host, beside the floor probe (../shared/floor) run in the same session. Not a test: it
# measures. Every run is bounded (ramp timeout, hold, server --duration) and stops by itself.
# SERVER_ARGS / CLIENT_ARGS add flags to every c1m server / client it starts (to try a setting).
# ROUNDS=k repeats floor-then-approaches k times and ends with each approach's median ratio: this
# machine's floor alone moves by a fifth between runs, so one ratio says little.
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
N=${N:-1000000}
HOLD=${HOLD:-10s}
ROUNDS=${ROUNDS:-1}
RESULTS=${RESULTS:-results}
. lab/quiet.sh
FLOOR_SRC=${FLOOR_SRC:-../shared/floor/c1m_probe.c}
mkdir -p "$RESULTS"

# The host must allow it; we check and say, never change it here (make host-tune does, when asked).
# A run just before leaves conntrack entries that the doctor would count against the limit.
wait_for_quiet_host
"$C1M" doctor --connections "$N" --both-ends-here || { echo "bench-native: this host is not ready (see above; make host-tune)"; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary="$RESULTS/$stamp-bench-native.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

ratios="$RESULTS/.bench-native-ratios"
: > "$ratios"
run_floor() {  # sets floor_s: the probe's seconds, or empty when there is no floor
  floor_s=""
  if [ -n "${SKIP_FLOOR:-}" ]; then
    say "floor: skipped (SKIP_FLOOR)"
  elif [ -f "$FLOOR_SRC" ]; then
    gcc -O2 -o build/c1m_probe "$FLOOR_SRC"
    local procs=$(( (N + 18999) / 19000 ))
    say "$(wait_for_quiet_host)"
    say "floor: build/c1m_probe $procs 19000"
    local floor_json
    floor_json=$(timeout 300 build/c1m_probe "$procs" 19000 || true)
    say "floor: $floor_json"
    floor_s=$(echo "$floor_json" | sed -n 's/.*"seconds_to_connect_all":\([0-9.]*\).*/\1/p')
  else
    say "floor: $FLOOR_SRC not found; no ratio"
  fi
}

run_approach() {  # name, server --listen, client --source, client --target
  local name=$1 listen=$2 source=$3 target=$4
  say "$(wait_for_quiet_host)"
  local record="$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-$name-native.json"
  # The run goes through the collector, as the lab's do: the client pushes its record to it.
  "$C1M" collect --listen 127.0.0.1:9200 --expect-count 1 --out "$RESULTS" --approach "$name" --deadline 15m \
    >"$RESULTS/.collect.log" 2>&1 &
  local collector=$!
  "$C1M" server --listen "$listen" --expect "$N" --admin 127.0.0.1:9100 --duration 400 ${SERVER_ARGS:-} >/dev/null 2>"$RESULTS/.server.log" &
  local server=$!
  sleep 1
  local rc=0
  "$C1M" client --source "$source" --target "$target" --connections "$N" --hold "$HOLD" \
    --server-stats 127.0.0.1:9100 --approach "$name" --json "$record" --report-to 127.0.0.1:9200 --progress plain ${CLIENT_ARGS:-} || rc=$?
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  wait "$collector" 2>/dev/null || true
  say "$name: exit $rc, record $record; collected: $(grep -o 'record .*' "$RESULTS/.collect.log" | tail -1)"
  echo "$record" >> "$RESULTS/.native-records"
  python3 - "$record" "$floor_s" "$ratios" "$name" <<'PY' | tee -a "$summary"
import json, sys
r = json.load(open(sys.argv[1])); res = r["results"]; mem = r["memory"]; floor = sys.argv[2]
ttt = res["time_to_target_s"]
if floor and ttt: open(sys.argv[3], "a").write(f"{sys.argv[4]} {ttt} {floor}\n")
print(f'  established client {res["established_peak_client"]} server {res["established_peak_server"]} '
      f'errors {res["errors_total"]} time_to_target_s {ttt} connect_rate_per_s {res["connect_rate_per_s"]:.0f}')
if floor and ttt: print(f'  time to target / floor = {ttt:.2f} / {float(floor):.2f} = {ttt / float(floor):.3f}')
print(f'  user bytes/conn client {mem["user_bytes_per_connection_client"]:.1f} server {mem["user_bytes_per_connection_server"]:.1f}; '
      f'kernel bytes/socket {mem["kernel_bytes_per_socket"]:.0f}')
print(f'  hold cpu cores client {res["hold_cpu_cores_client"]} server {res["hold_cpu_cores_server"]}')
PY
}

for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && say "round $round of $ROUNDS"
  run_floor
  for approach in ${APPROACHES:-multi-ip multi-port}; do
    case "$approach" in
      multi-ip) run_approach multi-ip 127.0.0.1:9000 127.0.0.2-127.0.0.21 127.0.0.1:9000 ;;
      multi-port) run_approach multi-port 127.0.0.1:9000-9019 127.0.0.2 127.0.0.1:9000-9019 ;;
      *) echo "bench-native: APPROACHES: unknown approach $approach" >&2; exit 2 ;;
    esac
  done
done
lab/ratio_medians.py "$ratios" "time to target / floor" | tee -a "$summary"
say "summary: $summary"
