#!/usr/bin/env bash
# make bench-targets: real servers from Debian's archive in the lab, each at up to N connections or the
# limit it hits (FIND_LIMIT=1 names it), with a live hold: what it held and what bound it, time to
# target, its user and kernel bytes a connection (c1m meter, its cgroup), its CPU a connection and per
# 1,000 pings a second, the ping RTT p99 beside the floor probe's live mode run first, and the c1m
# client's own CPU beside the server's. Not a test: a tuned host (make host-tune N=...) and minutes.
#   SERVERS ["redis mosquitto nginx"]   N [1000000]   LIVE [60s]   C1M_PING_INTERVAL [30s]
# nginx gets a worker per 15,000 connections (NGINX_WORKERS; each takes 19,000 at most, and reuseport's
# hash spreads them unevenly: a worker per 19,000 closed 38,470 of a million); redis and mosquitto are
# one process each.
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
. lab/bench_common.sh targets
SERVERS=${SERVERS:-redis mosquitto nginx}
LIVE=${LIVE:-60s}
export C1M_PING_INTERVAL=${C1M_PING_INTERVAL:-30s}
FLOOR_SRC=${FLOOR_SRC:-../shared/floor/c1m_probe.c}
say() { echo "bench-targets: $*" | tee -a "$summary"; }
die() { echo "bench-targets: $*" >&2; exit 2; }
seconds() { "$C1M" --version >/dev/null; python3 -c 'import re, sys; m = re.fullmatch(r"(\d+)(ms|s|m)?", sys.argv[1]); sys.exit(1) if not m else print(int(m[1]) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m[2]])' "$1"; }
live_s=$(seconds "$LIVE") || die "LIVE=$LIVE: expected a duration (60s, 2m)"
interval_s=$(seconds "$C1M_PING_INTERVAL") || die "C1M_PING_INTERVAL=$C1M_PING_INTERVAL: expected a duration"
read -r max limit < <("$C1M" doctor --connections "$N" --both-ends-here --in-containers --pairs 20 --print-max)
(( N <= max )) || die "N=$N is more than this host holds (about $max, limited by $limit): make host-tune N=$N first"

# The floor's live mode: raw epoll, the same connections, live time and interval, on loopback.
floor_p99=""
if [ -f "$FLOOR_SRC" ]; then
  gcc -O2 -o build/c1m_probe "$FLOOR_SRC"
  say "$(wait_for_quiet_host)"
  floor=$(timeout $(( 300 + ${live_s%.*} )) build/c1m_probe $(( (N + 18999) / 19000 )) 19000 20000 "${live_s%.*}" "${interval_s%.*}" || true)
  say "floor, live: $(sed -n 2p <<<"$floor")"
  floor_p99=$(sed -n 2p <<<"$floor" | sed -n 's/.*"rtt_p99_ms":\([0-9.]*\).*/\1/p')
else
  say "floor: $FLOOR_SRC not found; the RTT has no floor beside it"
fi

records=()
for server in $SERVERS; do
  case "$server" in
    redis) protocol=redis ;; mosquitto) protocol=mqtt ;; nginx) protocol=http ;;
    *) die "SERVERS: $server has no preset (redis, mosquitto, nginx)" ;;
  esac
  NGINX_WORKERS=$(( N / 15000 + 1 )) SERVER=$server lab/target-image.sh >/dev/null
  say "$(wait_for_quiet_host)"
  say "$server: make lab-up TARGET=c1m-target-$server PROTOCOL=$protocol FIND_LIMIT=1 N=$N HOLD=5s LIVE=$LIVE C1M_PING_INTERVAL=$C1M_PING_INTERVAL"
  rm -f build/lab/last-record
  TARGET=c1m-target-$server PROTOCOL=$protocol FIND_LIMIT=1 N=$N HOLD=5s LIVE=$LIVE lab/lab.sh up 2>&1 |
    grep -E "^(lab: (multi|done)|c1m (meter|collect)|  record)" | tee -a "$summary" || true
  [ -s build/lab/last-record ] && records+=("$(cat build/lab/last-record)") || say "$server: no record"
done
lab/lab.sh down >/dev/null 2>&1 || true
python3 - "$floor_p99" "$N" "${records[@]}" <<'PY' | tee -a "$summary"
import json, sys
floor = float(sys.argv[1]) if sys.argv[1] else None
asked = int(sys.argv[2])
def f(v, fmt="{:,.0f}"):
    return "n/a" if v is None else fmt.format(v)
# The floor held all N: its RTT is the tail of N connections' pings, beside a server that held most of them.
print("| server | held (bound by) | ramp | server user / kernel B a conn | server ramp CPU us a conn (user mode) | server live cores per 1k pings/s | client ramp CPU us a conn (client / server) | of it c1m's own code (user mode; / server) | client user B a conn | live RTT p99 (/ floor) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for path in sys.argv[3:]:
    r = json.load(open(path)); x, m, t = r["results"], r["memory"], r["topology"].get("target", {})
    held = x.get("limit_connections") or x["established_peak_server"] or 0
    per = lambda s: None if s is None or not held else s * 1e6 / held
    srv, cli = per(x.get("ramp_cpu_server_s")), per(x.get("ramp_cpu_client_s"))
    srv_user, cli_user = per(x.get("ramp_cpu_server_user_s")), per(x.get("ramp_cpu_client_user_s"))
    p99 = (x.get("ping_rtt_ms") or {}).get("p99")
    beside = floor if held >= 0.9 * asked else None
    print(f"| {t.get('software') or t.get('image')} | {held:,} ({(t.get('limit') or {}).get('bound_by')}) | {f(x.get('time_to_target_s') or x.get('ramp_duration_s'), '{:.2f} s')} "
          f"| {f(m.get('user_bytes_per_connection_server'))} / {f(m.get('kernel_bytes_per_connection_server'))} | {f(srv, '{:.1f}')} ({f(srv_user, '{:.1f}')}) "
          f"| {f(x.get('live_cpu_cores_per_1k_pings_per_s_server'), '{:.4f}')} | {f(cli, '{:.1f}')} ({f(cli / srv if cli and srv else None, '{:.2f}x')}) "
          f"| {f(cli_user, '{:.1f}')} ({f(cli_user / srv if cli_user is not None and srv else None, '{:.2f}x')}) "
          f"| {f(m.get('user_bytes_per_connection_client'))} | {f(p99, '{:.1f} ms')} ({f(p99 / beside if p99 and beside else None, '{:.2f}x')}) |")
    print(f"|  | {r['reason'] or r['status']} | | | | | | | | |")
PY
say "summary in $summary; records: ${records[*]:-none}"
