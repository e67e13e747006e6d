#!/usr/bin/env bash
# How far to trust make ci-bench's gate on this runner: TRIALS runs of ci-bench with the same build on
# both sides (every REGRESSION is a false alarm) and PLANTED runs with a slowdown planted on the new
# side only (every "no regression" is a miss), the two kinds interleaved so that both meet the host
# in the same state. One line a trial, then the counts. Takes about 10 lab runs a trial.
# Settings (environment; defaults in brackets):
#   APPROACH [multi-ip] or multi-port   TRIALS [20]   PLANTED [10]
#   PLANT [C1M_SERVER_QDISC="tbf rate 20mbit burst 16kb latency 500ms"]: the new side's lab settings
#     in planted trials (here: the server's replies through a 20 Mbit/s link)
#   OUT [results/gate-trials]: trial-K.log and trials.tsv
#   and ci-bench's own: N, REPEAT, HOLD, THRESHOLD, GATE
set -euo pipefail
cd "$(dirname "$0")/.."
APPROACH=${APPROACH:-multi-ip}
TRIALS=${TRIALS:-20}
PLANTED=${PLANTED:-10}
PLANT=${PLANT:-C1M_SERVER_QDISC=\"tbf rate 20mbit burst 16kb latency 500ms\"}
OUT=${OUT:-results/gate-trials}
for v in TRIALS PLANTED; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "gate-trials: $v=${!v}: expected a whole number" >&2; exit 2; }
done
mkdir -p "$OUT"
# One binary for every trial and both sides: a rebuild while the trials run changes nothing.
cp "${C1M:-build/c1m}" "$OUT/c1m"
total=$((TRIALS + PLANTED))
alarms=0 caught=0 tsv=$OUT/trials.tsv
printf 'trial\tkind\tverdict\tbase_time_to_target_s\tnew_time_to_target_s\n' >"$tsv"
for k in $(seq 1 "$total"); do
  # Planted trials spread evenly among the same-code ones.
  kind=same; (( k * PLANTED / total > (k - 1) * PLANTED / total )) && kind=planted
  settings=""; [ "$kind" = planted ] && settings=$PLANT
  rc=0
  C1M=$OUT/c1m BASE_C1M=$OUT/c1m NEW_SETTINGS=$settings APPROACHES=$APPROACH OUT=$OUT/trial-$k \
    lab/ci-bench.sh >"$OUT/trial-$k.log" 2>&1 || rc=$?
  case $rc in
    0) verdict="no regression" ;;
    1) verdict=REGRESSION ;;
    *) tail -5 "$OUT/trial-$k.log" >&2; echo "gate-trials: trial $k could not be made (ci-bench exit $rc): see $OUT/trial-$k.log" >&2; exit 2 ;;
  esac
  read -r base new < <(awk '$1 == "time_to_target_s" { print $2, $3; exit }' "$OUT/trial-$k.log")
  [ "$kind" = same ] && [ $rc -eq 1 ] && alarms=$((alarms + 1))
  [ "$kind" = planted ] && [ $rc -eq 1 ] && caught=$((caught + 1))
  printf '%s\t%s\t%s\t%s\t%s\n' "$k" "$kind" "$verdict" "$base" "$new" >>"$tsv"
  echo "gate-trials: $APPROACH trial $k of $total ($kind): $verdict (time to target, medians: base $base s, new $new s)"
done
echo "gate-trials: $APPROACH: same code: $alarms false alarm(s) in $TRIALS; planted ($PLANT): caught $caught of $PLANTED"
