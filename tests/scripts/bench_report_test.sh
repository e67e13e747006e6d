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

rc=0; "$report" native "$work/absent.json" 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "absent.json" "$work/err" || fail "a missing record: exit $rc, $(cat "$work/err")"
echo "bench_report: all checks passed"
