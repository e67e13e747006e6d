#!/usr/bin/env bash
# make ci-bench: what a CI job runs on its runner. The lab at a CI-sized N for each approach, then each
# record against a baseline record: what differs in where they ran first, then every metric; a
# markdown table into $GITHUB_STEP_SUMMARY when it is set; benchmark-tracking JSON beside the records;
# exit 1 on a regression, 2 on bad input.
# Settings (environment; defaults in brackets):
#   N [20000] connections a run   HOLD [5s]   APPROACHES [multi-ip multi-port]
#   THRESHOLD [35%], METRIC_THRESHOLDS [connect_latency_p99_ms=200% connect_latency_p999_ms=75%]: a change
#     worse than these is a regression. Sized from the noise of single runs at N=20000 on a shared
#     2-core machine, same code, 10 comparisons: time to target -26%..+22%, connect rate -18%..+36%,
#     p99 -35%..+144%, p99.9 -43%..+45%. So this gate catches large regressions only; for smaller
#     ones, more connections and rounds (make bench-lab).
#   BASELINES [results/baselines/<hostname>]: <approach>.json each; a missing one is made from this run
#   OUT [results/ci]: this run's records (<approach>.json), logs, benchmark-<approach>/ exports; what a CI job keeps
#   COMPARE_ONLY=1: compare the records already in OUT, run nothing (another host's baseline, say)
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
N=${N:-20000}
HOLD=${HOLD:-5s}
THRESHOLD=${THRESHOLD:-35%}
METRIC_THRESHOLDS=${METRIC_THRESHOLDS-connect_latency_p99_ms=200% connect_latency_p999_ms=75%}
thresholds=(--threshold "$THRESHOLD")
for m in $METRIC_THRESHOLDS; do thresholds+=(--metric-threshold "$m"); done
BASELINES=${BASELINES:-results/baselines/$(hostname)}
OUT=${OUT:-results/ci}
say() { echo "ci-bench: $*"; }
mkdir -p "$OUT"

status=0
for approach in ${APPROACHES:-multi-ip multi-port}; do
  record=$OUT/$approach.json
  if [ -z "${COMPARE_ONLY:-}" ]; then
    say "$approach: the lab at N=$N, hold $HOLD"
    rc=0
    APPROACH=$approach N=$N HOLD=$HOLD lab/lab.sh up >"$OUT/$approach.log" 2>&1 || rc=$?
    grep -E '^(lab: (ran|this host)|c1m collect|  )' "$OUT/$approach.log" | sed 's/^/  /' || true
    [ -s build/lab/last-record ] || { tail -5 "$OUT/$approach.log"; say "$approach: the lab left no record (exit $rc)"; exit 2; }
    cp "$(cat build/lab/last-record)" "$record"
    (( rc == 0 )) || { say "$approach: the run itself failed (exit $rc): a regression whatever the baseline"; status=1; }
  fi
  [ -f "$record" ] || { say "$approach: no record at $record to compare"; exit 2; }
  base=$BASELINES/$approach.json
  if [ ! -f "$base" ]; then
    mkdir -p "$BASELINES"
    cp "$record" "$base"
    say "$approach: no baseline at $base; this run's record is the baseline from now on (keep it: commit it, or a CI artifact)"
    continue
  fi
  say "$approach: $base -> $record"
  rc=0
  mkdir -p "$OUT/benchmark-$approach"
  "$C1M" compare "${thresholds[@]}" --export benchmark-action --export-dir "$OUT/benchmark-$approach" "$base" "$record" || rc=$?
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { echo "### c1m lab, $approach, N=$N"; "$C1M" compare "${thresholds[@]}" --format md "$base" "$record" || true; } >>"$GITHUB_STEP_SUMMARY"
  fi
  case $rc in
    0) ;;
    1) status=1 ;;
    *) say "$approach: the comparison could not be made (exit $rc)"; exit 2 ;;
  esac
done
[ -n "${COMPARE_ONLY:-}" ] || lab/lab.sh down >/dev/null
say "$([ "$status" -eq 0 ] && echo "no regression" || echo "REGRESSION: see above")"
exit "$status"
