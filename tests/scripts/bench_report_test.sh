#!/usr/bin/env bash
# The benchmarks' report reads records whose figures may be null: it prints n/a, never aborts
# (bench-native once formatted a null kernel_bytes_per_socket and lost the whole benchmark).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
report="$root/lab/bench_report.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 - "$root/tests/fixtures/records/base.json" "$work" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["results"]["ramp_cpu_busy_us_per_connection"] = 55.0
json.dump(r, open(sys.argv[2] + "/good.json", "w"))
r["results"]["ramp_cpu_busy_us_per_connection"] = None  # a record from before the ramp's CPU was kept
r["memory"]["kernel_bytes_per_socket"] = None      # the slab shrank during the run
r["memory"]["user_bytes_per_connection_server"] = None
r["results"]["time_to_target_s"] = None             # never reached
r["results"]["hold_cpu_cores_server"] = None
json.dump(r, open(sys.argv[2] + "/nulls.json", "w"))
r["results"]["live_hold_s"] = 3.0  # a live hold of three seconds, one slow while the hypervisor stole
r["series"] = [{"t_s": 40.0 + i, "established": 1000, "connect_rate_per_s": 0, "machine_steal_cores": steal,
                "ping_rtt_ms": {"count": 100, "p50": 0.2, "p99": p99, "max": p99 * 2}}
               for i, (p99, steal) in enumerate([(1.0, 0.0), (30.0, 0.0), (50.0, 0.2)])]
r["series"].append({"t_s": 43.0, "established": 1000, "connect_rate_per_s": 0, "machine_steal_cores": None,
                    "ping_rtt_ms": {"count": 5, "p50": None, "p99": None, "max": None}})
json.dump(r, open(sys.argv[2] + "/live.json", "w"))
PY

out=$("$report" native "$work/nulls.json" 25.0) || fail "native on a record with null figures exited $?"
grep -q "kernel bytes/socket n/a" <<<"$out" || fail "no n/a for a null kernel_bytes_per_socket: $out"
grep -q "time_to_target_s n/a" <<<"$out" || fail "no n/a for a null time to target: $out"
grep -q "/ floor" <<<"$out" && fail "a ratio printed for a run that never reached its target: $out"
[ -z "$("$report" ttt "$work/nulls.json")" ] || fail "ttt of a never-reached run is not empty"

out=$("$report" native "$work/good.json" 25.0)
grep -q "time to target / floor" <<<"$out" || fail "no floor ratio for a complete run: $out"
[ -n "$("$report" ttt "$work/good.json")" ] || fail "ttt of a complete run is empty"
out=$("$report" native "$work/good.json" 25.0 50.0)
grep -q "ramp busy cpu a connection / floor = 55.00 / 50.00 us = 1.100" <<<"$out" || fail "no CPU ratio to the floor: $out"
out=$("$report" native "$work/nulls.json" 25.0 50.0)
grep -q "us/connection" <<<"$out" && ! grep -q "cpu a connection / floor" <<<"$out" || fail "a CPU ratio for a null figure: $out"
[ "$("$report" cpu "$work/good.json")" = 55.0 ] && [ -z "$("$report" cpu "$work/nulls.json")" ] || fail "cpu RECORD"

out=$("$report" lab multi-ip "$work/good.json" "$work/nulls.json") || fail "lab on a record with null figures exited $?"
grep -q "not reached by one side" <<<"$out" || fail "lab ratio printed with one side never reaching: $out"

out=$("$report" medians "lab / native" 1.25 multi-ip:30:25 multi-ip:27:25 multi-ip:40:25 multi-port:20:25)
grep -q "multi-ip: lab / native over 3 round(s): 1.200 1.080 1.600; median 1.200 (within the 1.25x target)" <<<"$out" || fail "medians: $out"
grep -q "multi-port: .*median 0.800" <<<"$out" || fail "medians: $out"
[ -z "$("$report" medians "x" -)" ] || fail "medians of no run printed something"

out=$("$report" native "$work/live.json") || fail "native on a live record exited $?"
grep -q "live rtt by second (3 s with answers): p99 median 30.00 ms; 2 s over 20 ms (66.7% of the answers); 1 s over 40 ms (33.3% of the answers)" <<<"$out" || fail "live rtt by second: $out"
grep -q "t=42 s p99 50.0 max 100.0 ms steal 0.20" <<<"$out" || fail "the worst second and its steal: $out"
grep -q "in the 1 s the hypervisor took 0.05 cores or more: p99 median 50.00 ms, against 30.00 ms" <<<"$out" || fail "steal's seconds: $out"

# The live tail beside the floor's: a record's ping RTT at a percentile, empty when it pinged nothing.
python3 - "$work" <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + "/live.json"))
r["results"]["ping_rtt_ms"] = {"count": 300, "p50": 0.3, "p99": 168.5, "p999": 270.0, "max": 400.0}
json.dump(r, open(sys.argv[1] + "/pinged.json", "w"))
r["results"]["ping_rtt_ms"] = {"count": 0, "p50": None, "p99": None, "p999": None, "max": None}
json.dump(r, open(sys.argv[1] + "/unpinged.json", "w"))
PY
[ "$("$report" rtt "$work/pinged.json" p99)" = 168.5 ] && [ "$("$report" rtt "$work/pinged.json" p999)" = 270.0 ] ||
  fail "rtt RECORD p99/p999: $("$report" rtt "$work/pinged.json" p99)"
[ -z "$("$report" rtt "$work/unpinged.json" p99)" ] || fail "rtt of a record that pinged nothing is not empty"
out=$("$report" medians "live ping RTT p99 / the live floor's" 1.10 multi-port:185:168 multi-port:150:160 multi-port:170:150)
grep -q "multi-port: live ping RTT p99 / the live floor's over 3 round(s): 1.101 0.938 1.133; median 1.101 (over the 1.1x target)" <<<"$out" ||
  fail "live medians: $out"

rc=0; "$report" native "$work/absent.json" 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "absent.json" "$work/err" || fail "a missing record: exit $rc, $(cat "$work/err")"
# Figures are read by the schema's names: a name it does not have (a figure renamed in the field
# table and not here) stops the report, and every name the report reads is one the schema has.
rc=0; python3 -c "import sys; sys.path.insert(0, '$root/lab'); import bench_report; bench_report.known('results.time_to_targt_s')" \
  2>"$work/err" || rc=$?
[ "$rc" = 1 ] && grep -q "results.time_to_targt_s: not a figure of the run record's schema" "$work/err" ||
  fail "a name the schema lacks was taken: exit $rc, $(tail -1 "$work/err")"
for name in $(grep -o "r\['[a-z_.0-9]*'\]\|l\['[a-z_.0-9]*'\]\|\"results\.[a-z_.0-9]*\"" "$report" | grep -o "[a-z_]*\.[a-z_.0-9]*" | grep -v '\.$' | sort -u); do
  python3 -c "import sys; sys.path.insert(0, '$root/lab'); import bench_report; bench_report.known('$name')" ||
    fail "the report reads $name, which the schema does not have"
done
echo "bench_report: all checks passed"
