#!/usr/bin/env bash
# make ci-bench at small scale (make test): the CI recipe's one step, as a CI job runs it. Against a
# baseline it made itself: exit 0; against a baseline edited to be better: exit 1, the regression in
# the job summary and the benchmark-tracking files written; a record made natively beside one made in
# the lab: what differs in where they ran comes first. Without a Docker engine it says SKIPPED.
set -uo pipefail
cd "$(dirname "$0")/../.."
C1M=${C1M:-build/c1m}
. tests/lab/check.sh  # check DESCRIPTION COMMAND...: counted in passed, failed
contains() { [[ "$1" == *"$2"* ]] || { echo "    not found: $2"; return 1; }; }
if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: ci-bench test: no Docker engine answers here; make ci-bench was not tested"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lab/lab.sh down >/dev/null 2>&1' EXIT
# Three runs a side: the fewest from which repetitions that do not overlap decide (1 chance in 20).
export BASELINES=$tmp/baselines OUT=$tmp/ci N=2000 HOLD=1s REPEAT=3
echo "ci-bench test: both approaches at N=$N, $REPEAT runs each, baselines in a temporary directory"

out=$(lab/ci-bench.sh 2>&1); rc=$?
echo "$out" | grep '^ci-bench' | sed 's/^/    /'
check "the first run exits 0 and makes the baselines (exit $rc)" \
  bash -c '[ "$1" -eq 0 ] && [ -f "$2/multi-ip.json" ] && [ -f "$2/multi-port.json" ]' _ "$rc" "$BASELINES"

summary=$tmp/summary.md
out=$(GITHUB_STEP_SUMMARY=$summary COMPARE_ONLY=1 lab/ci-bench.sh 2>&1); rc=$?
check "the same records against them: exit $rc, no regression" bash -c '[ "$1" -eq 0 ] && [[ "$2" == *"ci-bench: no regression"* ]]' _ "$rc" "$out"
reps_each() {  # how many repetitions the baselines hold (one number when they agree)
  python3 -c 'import json, sys; print(*sorted({len(json.load(open(f))["repetitions"]) for f in sys.argv[1:]}))' \
    "$BASELINES"/multi-ip.json "$BASELINES"/multi-port.json 2>/dev/null
}
check "the baselines hold $REPEAT repetitions each (got $(reps_each))" test "$(reps_each)" = "$REPEAT"
check "it says which metrics it gates on, with their noise" bash -c '[[ "$1" == *"gated on: "*"base noise"* ]]' _ "$out"
check "a table per approach went into \$GITHUB_STEP_SUMMARY" \
  bash -c '[ "$(grep -c "^| time_to_target_s" "$1")" -eq 2 ]' _ "$summary"

# The baseline made better than this host can be: time to target a fifth, connects a second five times.
python3 - "$BASELINES/multi-ip.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for figures in [r["results"]] + r["repetitions"]:
    figures["time_to_target_s"] *= 0.2
    figures["connect_rate_per_s"] *= 5
json.dump(r, open(sys.argv[1], "w"))
PY
rm -rf "$summary" "$OUT"/benchmark-*
out=$(GITHUB_STEP_SUMMARY=$summary COMPARE_ONLY=1 lab/ci-bench.sh 2>&1); rc=$?
echo "$out" | grep -E '^(ci-bench|time_to_target_s|connect_rate_per_s)' | sed 's/^/    /'
check "against a baseline edited to be better: exit $rc (1)" test "$rc" -eq 1
# Named by the connect rate: the time to target of 2,000 started together (0.01-0.06 s) is under
# compare's noise floor for times (0.1 s), so a fifth of it is still "same".
check "the job summary names the regression" bash -c 'grep -q "connect_rate_per_s.*REGRESSION" "$1"' _ "$summary"
check "benchmark-tracking files for both approaches" \
  bash -c '[ "$(ls "$1"/benchmark-multi-*/benchmark-*-is-better.json 2>/dev/null | wc -l)" -eq 4 ]' _ "$OUT"

# A record made natively, compared with one made in the lab: where they ran differs, and says so first.
"$C1M" server --listen 127.0.0.1:21990 --expect 1k --workers 1 --admin 127.0.0.1:21991 --duration 30s >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:21991/stats >/dev/null && break; sleep 0.1; done
"$C1M" client --target 127.0.0.1:21990 -n 500 --hold 0 --server-stats 127.0.0.1:21991 --progress off --json "$tmp/native.json" 2>/dev/null
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
out=$("$C1M" compare "$tmp/native.json" "$OUT/multi-ip.json" 2>&1)
echo "$out" | sed -n '/differ in where they ran/,/^metric/p' | head -6 | sed 's/^/    /'
first_table_line=$(grep -n '^metric' <<<"$out" | head -1 | cut -d: -f1)
differ_line=$(grep -n 'differ in where they ran' <<<"$out" | head -1 | cut -d: -f1)
check "native against lab: the host differences come first" \
  bash -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]' _ "$differ_line" "$first_table_line"

# Against a base build, interleaved: the same binary on both sides passes; the new side's server
# behind a 1 Mbit/s link (its SYN-ACKs alone take a second, against 0.04 s) is a regression.
ab=$tmp/ab
out=$(OUT=$ab BASE_C1M=$C1M APPROACHES=multi-port lab/ci-bench.sh 2>&1); rc=$?
echo "$out" | grep -E '^ci-bench: multi-port: (base|new) build' | head -4 | sed 's/^/    /'
check "the same build against itself, interleaved: exit $rc (0)" test "$rc" -eq 0
order=$(echo "$out" | sed -n 's/^ci-bench: multi-port: \(base\|new\) build, .*run \([0-9]\) of .*/\1\2/p' | tr '\n' ' ')
check "runs interleaved as base new new base base new (got: $order)" test "$order" = "base1 new1 new2 base2 base3 new3 "
check "a base record of $REPEAT repetitions beside the new one" \
  bash -c '[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))[\"repetitions\"]))" "$1/base-multi-port.json")" = "$2" ]' _ "$ab" "$REPEAT"
out=$(OUT=$ab BASE_C1M=$C1M NEW_SETTINGS='C1M_SERVER_QDISC="tbf rate 1mbit burst 4kb latency 2s"' APPROACHES=multi-port lab/ci-bench.sh 2>&1); rc=$?
echo "$out" | grep -E '^(time_to_target_s|connect_rate_per_s|ci-bench: (REGRESSION|no regression))' | sed 's/^/    /'
check "a slowdown planted on the new side only: exit $rc (1)" test "$rc" -eq 1
check "only the new side's server was behind the slow link" \
  bash -c '[ "$(grep -l "sends through: tbf" "$1"/multi-port-*.log | wc -l)" = "$2" ] && ! grep -q "sends through" "$1"/base-multi-port-*.log' _ "$ab" "$REPEAT"
out=$(OUT=$ab BASE_REF=no-such-revision lab/ci-bench.sh 2>&1); rc=$?
check "BASE_REF that is no revision: exit $rc (2), one line" bash -c '[ "$1" -eq 2 ] && [[ "$2" == *"BASE_REF=no-such-revision: not a revision"* ]]' _ "$rc" "$out"
out=$(OUT=$ab NEW_SETTINGS=C1M_SERVER_CPUS=0.5 lab/ci-bench.sh 2>&1); rc=$?
check "NEW_SETTINGS with no base: exit $rc (2)" bash -c '[ "$1" -eq 2 ] && [[ "$2" == *"set BASE_REF too"* ]]' _ "$rc" "$out"


echo "ci-bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
