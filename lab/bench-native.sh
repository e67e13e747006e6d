#!/usr/bin/env bash
# make bench-native: both of the article's approaches at 1,000,000 connections on loopback, both ends
# on this host, beside the floor probe (../shared/floor) run in the same session. Not a test: it
# measures. Every run is bounded (ramp timeout, hold, server --duration) and stops by itself.
# SERVER_ARGS / CLIENT_ARGS add flags to every c1m server / client it starts (to try a setting);
# SERVER_DURATION (600 s) bounds each server.
# ROUNDS=k repeats floor-then-approaches k times and ends with each approach's median ratio: this
# machine's floor alone moves by a fifth between runs, so one ratio says little.
# LIVE=60s adds a live hold after HOLD: every connection pinged once a PING_INTERVAL (30s); the floor
# then runs its live mode with the same connections, live time and interval, and each approach's live
# ping round trip (p99, p99.9) is printed as a ratio to the floor's, with ROUNDS' medians.
# N past 1.2M: more (source, target) pairs than the article's 20, 60,000 connections each at most
# (one pair has 64,512 ports): 1,500,000 takes 25 source addresses, or 25 server ports.
# CONNTRACK [on], off, or "on off": whether the host tracks the runs' loopback connections. Where
# Docker (or any firewall) has loaded connection tracking, every loopback connection is tracked; off
# adds a NOTRACK rule for TCP on lo (raw table, both ways) for that part of each round, the floor's
# run included, and takes it out again whatever happens. A host setting: changed only when asked.
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

PAIRS=$(( (N + 59999) / 60000 > 20 ? (N + 59999) / 60000 : 20 ))
last_source=127.0.0.$(( 1 + PAIRS ))
last_port=$(( 9000 + PAIRS - 1 ))

# Its server and collector take 127.0.0.1:9100 and :9200, where the lab publishes its own.
for port in 9100 9200; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    echo "bench-native: 127.0.0.1:$port is taken (the lab is up? make lab-down): its runs would fail" >&2
    exit 2
  fi
done

CONNTRACK=${CONNTRACK:-on}
for tracking in $CONNTRACK; do
  [[ "$tracking" =~ ^(on|off)$ ]] || { echo "bench-native: CONNTRACK=$CONNTRACK: expected on, off, or \"on off\"" >&2; exit 2; }
done
if [[ " $CONNTRACK " == *" off "* ]]; then
  [ "$(id -u)" = 0 ] && command -v iptables >/dev/null ||
    { echo "bench-native: CONNTRACK=off adds a NOTRACK rule on lo: it needs root and iptables" >&2; exit 2; }
fi
untracked_rules=0  # NOTRACK rule pairs this script added (it takes out only its own)
untrack_loopback() {
  iptables -w -t raw -I PREROUTING -i lo -p tcp -j NOTRACK &&
    iptables -w -t raw -I OUTPUT -o lo -p tcp -j NOTRACK && untracked_rules=$(( untracked_rules + 1 ))
}
track_loopback() {
  while (( untracked_rules > 0 )); do
    iptables -w -t raw -D PREROUTING -i lo -p tcp -j NOTRACK; iptables -w -t raw -D OUTPUT -o lo -p tcp -j NOTRACK
    untracked_rules=$(( untracked_rules - 1 ))
  done
}
trap track_loopback EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The host must allow it; we check and say, never change it here (make host-tune does, when asked).
# A run just before leaves conntrack entries that the doctor would count against the limit.
wait_for_quiet_host
doctor_args=()
[ "$CONNTRACK" = off ] && doctor_args=(--untracked)
"$C1M" doctor --connections "$N" --both-ends-here --pairs "$PAIRS" "${doctor_args[@]}" || { echo "bench-native: this host is not ready (see above; make host-tune)"; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary="$RESULTS/$stamp-bench-native.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

# RECORD=PATH names the one run's record (bench-lab reads it back); with more runs it is refused.
approaches=${APPROACHES:-multi-ip multi-port}
if [ -n "${RECORD:-}" ] && { [ "$ROUNDS" != 1 ] || [ "$(wc -w <<<"$approaches")" != 1 ]; }; then
  echo "bench-native: RECORD names one record: give it one approach (APPROACHES) and ROUNDS=1" >&2
  exit 2
fi
seconds_of() {  # "60s", "2m", "90": whole seconds, or exit 2 naming the setting
  case "$2" in
    *[0-9]s) echo "${2%s}" ;; *[0-9]m) echo $(( ${2%m} * 60 )) ;; *[0-9]) echo "$2" ;;
    *) echo "bench-native: $1=$2: expected seconds like 60s or 2m" >&2; exit 2 ;;
  esac
}
live_args=() floor_live=()
if [ -n "${LIVE:-}" ]; then
  live_args=(--live "$LIVE" --ping-interval "${PING_INTERVAL:-30s}")
  # The floor's live mode, the same live time and interval: its ports from 20000, as by default.
  floor_live=(20000 "$(seconds_of LIVE "$LIVE")" "$(seconds_of PING_INTERVAL "${PING_INTERVAL:-30s}")")
fi
ratios=()       # approach:seconds:floor seconds, one per measured run
cpu_ratios=()   # approach:busy us a connection:the floor's, over the ramp alone
p99_ratios=()   # approach:live ping RTT p99 ms:the live floor's, with LIVE
p999_ratios=()  # the same at p99.9
json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
run_floor() {  # sets floor_s, floor_cpu and, with LIVE, floor_p99 and floor_p999 (ms); empty when not measured
  floor_s="" floor_cpu="" floor_p99="" floor_p999=""
  if [ -n "${SKIP_FLOOR:-}" ]; then
    say "floor: skipped (SKIP_FLOOR)"
  elif [ -f "$FLOOR_SRC" ]; then
    gcc -O2 -o build/c1m_probe "$FLOOR_SRC"
    local procs=$(( (N + 18999) / 19000 ))
    say "$(wait_for_quiet_host)"
    say "floor: build/c1m_probe $procs 19000 ${floor_live[*]}"
    local floor_out floor_json floor_live_json
    floor_out=$(timeout $(( 300 + ${floor_live[1]:-0} )) build/c1m_probe "$procs" 19000 "${floor_live[@]}" || true)
    floor_json=$(head -1 <<<"$floor_out") floor_live_json=$(sed -n 2p <<<"$floor_out")
    say "floor: $floor_json"
    floor_s=$(json_field seconds_to_connect_all "$floor_json")
    floor_cpu=$(json_field cpu_busy_us_per_connection "$floor_json")
    if [ -n "$floor_live_json" ]; then
      say "floor, live: $floor_live_json"
      floor_p99=$(json_field rtt_p99_ms "$floor_live_json") floor_p999=$(json_field rtt_p999_ms "$floor_live_json")
    fi
  else
    say "floor: $FLOOR_SRC not found; no ratio"
  fi
}

run_approach() {  # approach, server --listen, client --source, client --target
  local approach=$1 name=$1$suffix listen=$2 source=$3 target=$4 file=$1${suffix//\//-}
  say "$(wait_for_quiet_host)"
  local record=${RECORD:-$RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-$file-native.json}
  # The run goes through the collector, as the lab's do: the client pushes its record to it.
  local collect_log="$RESULTS/.collect-$file.log"
  "$C1M" collect --listen 127.0.0.1:9200 --expect-count 1 --out "$RESULTS" --approach "$approach" --deadline 15m >"$collect_log" 2>&1 &
  local collector=$!
  "$C1M" server --listen "$listen" --expect "$N" --admin 127.0.0.1:9100 --duration "${SERVER_DURATION:-600}" ${SERVER_ARGS:-} >/dev/null 2>"$RESULTS/.server.log" &
  local server=$!
  sleep 1
  local rc=0
  "$C1M" client --source "$source" --target "$target" --connections "$N" --hold "$HOLD" "${live_args[@]}" \
    --server-stats 127.0.0.1:9100 --approach "$approach" --json "$record" --report-to 127.0.0.1:9200 --progress plain ${CLIENT_ARGS:-} || rc=$?
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  local collected=0
  wait "$collector" 2>/dev/null || collected=$?
  say "$name: exit $rc, record $record; the collector's merge: exit $collected (0: complete; its log $collect_log)"
  lab/bench_report.py native "$record" "$floor_s" "$floor_cpu" | tee -a "$summary"
  local ttt cpu
  ttt=$(lab/bench_report.py ttt "$record") cpu=$(lab/bench_report.py cpu "$record")
  [ -n "$floor_s" ] && [ -n "$ttt" ] && ratios+=("$name:$ttt:$floor_s")
  [ -n "$floor_cpu" ] && [ -n "$cpu" ] && cpu_ratios+=("$name:$cpu:$floor_cpu")
  if [ -n "$floor_p99" ]; then  # the live hold's tail beside the floor's, measured minutes apart
    local p99 p999
    p99=$(lab/bench_report.py rtt "$record" p99) p999=$(lab/bench_report.py rtt "$record" p999)
    [ -n "$p99" ] && p99_ratios+=("$name:$p99:$floor_p99") &&
      say "  live rtt p99 / floor's = $p99 / $floor_p99 ms; p99.9 / floor's = ${p999:-n/a} / $floor_p999 ms"
    [ -n "$p999" ] && [ -n "$floor_p999" ] && p999_ratios+=("$name:$p999:$floor_p999")
  fi
  return 0
}

suffix=""  # a run's name is its approach, and /untracked when it ran untracked beside tracked runs
for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && say "round $round of $ROUNDS"
  for tracking in $CONNTRACK; do
    if [ "$tracking" = off ]; then
      untrack_loopback || { echo "bench-native: could not add the NOTRACK rules on lo" >&2; exit 1; }
      say "connection tracking: off (NOTRACK for TCP on lo, this script's own rule)"
      [ "$CONNTRACK" != off ] && suffix=/untracked
    else
      track_loopback
      say "connection tracking: as the host has it ($(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 'not loaded;') tracked now)"
      suffix=""
    fi
    run_floor
    for approach in $approaches; do
      case "$approach" in
        multi-ip) run_approach multi-ip 127.0.0.1:9000 "127.0.0.2-$last_source" 127.0.0.1:9000 ;;
        multi-port) run_approach multi-port "127.0.0.1:9000-$last_port" 127.0.0.2 "127.0.0.1:9000-$last_port" ;;
        *) echo "bench-native: APPROACHES: unknown approach $approach" >&2; exit 2 ;;
      esac
    done
  done
done
lab/bench_report.py medians "time to target / floor" 1.05 "${ratios[@]}" | tee -a "$summary"
lab/bench_report.py medians "ramp busy CPU a connection / floor" 1.10 "${cpu_ratios[@]}" | tee -a "$summary"
lab/bench_report.py medians "live ping RTT p99 / the live floor's" 1.10 "${p99_ratios[@]}" | tee -a "$summary"
lab/bench_report.py medians "live ping RTT p99.9 / the live floor's" - "${p999_ratios[@]}" | tee -a "$summary"
say "summary: $summary"
