#!/usr/bin/env bash
# make ci-bench: what a CI job runs on its runner. The lab at a CI-sized N, REPEAT times for each
# approach, as one record of repetitions, then that record against a baseline: what differs in where
# they ran first, then every metric; a markdown table into $GITHUB_STEP_SUMMARY when it is set;
# benchmark-tracking JSON beside the records; exit 1 on a regression, 2 on bad input.
# Two baselines, two questions:
#   BASE_REF=<git revision> (or BASE_C1M=<a c1m binary>): is this build slower than that one? The base
#     build is run here and now, its runs interleaved with this build's (base new, new base, ...), so
#     both sides meet the same host at the same time. The gate to trust: a stored baseline is another
#     moment of the host (multi-ip's same-code reruns failed 3 of 3 against one 40 minutes old).
#   BASELINES [results/baselines/<hostname>]: <approach>.json each, records kept from an earlier run or
#     another host; a missing one is made from this run. Is this host, now, slower than that record?
# Settings (environment; defaults in brackets):
#   N [20000] connections a run   HOLD [1s]   APPROACHES [multi-ip multi-port]   REPEAT [5] runs a side
#   GATE [time_to_target_s,connect_rate_per_s,connect_latency_p50_ms,errors_total,established_peak_client,
#     established_peak_server]: the metrics that can fail the job; the others (the tails: p99, p99.9)
#     are reported. One run's tail is noise.
#   THRESHOLD [20%], METRIC_THRESHOLDS []: a gated metric regresses when its median is worse by more
#     than this AND the repetitions say so (compare's exact rank test, one-sided, p <= 0.05); compare
#     prints each gated metric's noise in the baseline.
#   NEW_SETTINGS []: lab settings (VAR=value ...) for this build's runs only, with BASE_REF: a planted
#     slowdown (C1M_SERVER_QDISC="tbf rate 20mbit burst 16kb latency 500ms") to see the gate catch one
#   OUT [results/ci]: this run's records (<approach>.json, base-<approach>.json), logs, benchmark-<approach>/
#     exports; what a CI job keeps
#   COMPARE_ONLY=1: compare the records already in OUT, run nothing (another host's baseline, say)
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
N=${N:-20000}
HOLD=${HOLD:-1s}
REPEAT=${REPEAT:-5}
GATE=${GATE:-time_to_target_s,connect_rate_per_s,connect_latency_p50_ms,errors_total,established_peak_client,established_peak_server}
THRESHOLD=${THRESHOLD:-20%}
METRIC_THRESHOLDS=${METRIC_THRESHOLDS-}
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "ci-bench: REPEAT=$REPEAT: expected a whole number of runs, 1 or more" >&2; exit 2; }
thresholds=(--threshold "$THRESHOLD" --gate "$GATE")
for m in $METRIC_THRESHOLDS; do thresholds+=(--metric-threshold "$m"); done
BASELINES=${BASELINES:-results/baselines/$(hostname)}
OUT=${OUT:-results/ci}
say() { echo "ci-bench: $*"; }
mkdir -p "$OUT"

# BASE_REF's build, made once a revision in a worktree under build/base/ (kept: the next job reuses it).
base_build() {
  local sha dir
  sha=$(git rev-parse --verify -q "$BASE_REF^{commit}") || { echo "ci-bench: BASE_REF=$BASE_REF: not a revision of this repository" >&2; exit 2; }
  dir=build/base/$sha
  if [ ! -x "$dir/build/c1m" ]; then
    say "building the base, $BASE_REF ($sha), in $dir" >&2
    [ -d "$dir" ] || git worktree add -q --detach "$dir" "$sha" >&2
    { cmake -S "$dir" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$dir/build" --target c1m >/dev/null; } >&2 ||
      { echo "ci-bench: BASE_REF=$BASE_REF: the base did not build (above)" >&2; exit 2; }
  fi
  echo "$dir/build/c1m"
}

# One lab run: SIDE (new or base), APPROACH, K; its record copied to OUT/<side prefix><approach>-K.json.
run_once() {
  local side=$1 approach=$2 k=$3 prefix="" binary=$C1M settings=() rc=0
  if [ "$side" = base ]; then prefix=base-; binary=$BASE_C1M; else eval "settings=(${NEW_SETTINGS-})"; fi  # shell words: VAR="a b" stays one
  local log=$OUT/$prefix$approach-$k.log
  say "$approach: ${interleaved:+$side build, }the lab at N=$N, hold $HOLD, run $k of $REPEAT"
  rm -f build/lab/last-record
  env "${settings[@]}" C1M="$binary" APPROACH="$approach" N="$N" HOLD="$HOLD" lab/lab.sh up >"$log" 2>&1 || rc=$?
  grep -E '^(lab: (ran|this host|the server.s lab|each client)|c1m collect)' "$log" | sed 's/^/  /' || true
  [ -s build/lab/last-record ] || { tail -5 "$log"; say "$approach: the lab left no record (exit $rc)"; exit 2; }
  cp "$(cat build/lab/last-record)" "$OUT/$prefix$approach-$k.json"
  (( rc == 0 )) || { say "$approach: $side run $k itself failed (exit $rc): a regression whatever the baseline"; status=1; }
}

collect_runs() {  # RECORD FILES...: the runs as one record of repetitions
  local record=$1; shift
  rm -f "$record"
  "$C1M" collect --repetitions "$@" --output "$record" | sed 's/^/  /' || true
}

BASE_C1M=${BASE_C1M-}
[ -z "${BASE_REF-}" ] || [ -n "${COMPARE_ONLY-}" ] || BASE_C1M=$(base_build)
[ -z "$BASE_C1M" ] || [ -x "$BASE_C1M" ] || { echo "ci-bench: BASE_C1M=$BASE_C1M: no executable there" >&2; exit 2; }
[ -z "${NEW_SETTINGS-}" ] || [ -n "$BASE_C1M" ] || { echo "ci-bench: NEW_SETTINGS is for a build against a base one: set BASE_REF too" >&2; exit 2; }
interleaved=$([ -n "$BASE_C1M" ] || [ -n "${BASE_REF-}" ] && echo 1 || true)

status=0
for approach in ${APPROACHES:-multi-ip multi-port}; do
  record=$OUT/$approach.json
  if [ -z "${COMPARE_ONLY:-}" ]; then
    for k in $(seq 1 "$REPEAT"); do
      if [ -z "$interleaved" ]; then run_once new "$approach" "$k"
      elif (( k % 2 )); then run_once base "$approach" "$k"; run_once new "$approach" "$k"
      else run_once new "$approach" "$k"; run_once base "$approach" "$k"; fi
    done
    collect_runs "$record" $(for k in $(seq 1 "$REPEAT"); do echo "$OUT/$approach-$k.json"; done)
    [ -z "$interleaved" ] || collect_runs "$OUT/base-$approach.json" $(for k in $(seq 1 "$REPEAT"); do echo "$OUT/base-$approach-$k.json"; done)
  fi
  [ -f "$record" ] || { say "$approach: no record at $record to compare"; exit 2; }
  if [ -n "$interleaved" ]; then
    base=$OUT/base-$approach.json
    [ -f "$base" ] || { say "$approach: no base record at $base to compare"; exit 2; }
  else
    base=$BASELINES/$approach.json
    if [ ! -f "$base" ]; then
      mkdir -p "$BASELINES"
      cp "$record" "$base"
      say "$approach: no baseline at $base; this run's record is the baseline from now on (keep it: commit it, or a CI artifact)"
      continue
    fi
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
