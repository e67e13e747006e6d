#!/usr/bin/env bash
# make fuzz: every target under libFuzzer (clang, ASan+UBSan) for FUZZ_TIME seconds each (default
# 180), from the kept corpus. New inputs go to build-fuzz/corpus/TARGET; a crash is saved to
# build-fuzz/crashes/TARGET/ and fails the run: add it to tests/fuzz/corpus/TARGET/ with the fix,
# and make test replays it from then on. Prints each target's runs and whether it crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_TIME=${FUZZ_TIME:-180}
TARGETS=${TARGETS:-record merge collector compare plot units endpoints http reply}
command -v clang++-14 >/dev/null || { echo "fuzz: installing clang-14 and its fuzzer runtime (Debian)"; apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null; }
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DC1M_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' $TARGETS) >/dev/null
failed=0
for t in $TARGETS; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  log="build-fuzz/fuzz-$t.log"
  rc=0
  "build-fuzz/tests/fuzz_$t" -max_total_time="$FUZZ_TIME" -rss_limit_mb=4096 -max_len=262144 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$t/" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # crash-, leak-, oom- and timeout- inputs fail the run; a slow-unit is only the slowest input seen
  # (on a busy machine, one the scheduler starved), kept for a look.
  crashes=$(find "build-fuzz/crashes/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  slow=$(find "build-fuzz/crashes/$t" -type f -name 'slow-unit-*' | wc -l)
  echo "fuzz $t: ${runs:-?} runs in ${FUZZ_TIME} s, exit $rc, $crashes crash input(s)$( [ "$crashes" -gt 0 ] && echo " in build-fuzz/crashes/$t")$( [ "$slow" -gt 0 ] && echo ", $slow slow input(s) kept")"
  [ "$rc" = 0 ] && [ "$crashes" = 0 ] || failed=1
done
exit "$failed"
