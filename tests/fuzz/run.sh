#!/usr/bin/env bash
# Builds every tests/fuzz/*_fuzz.cpp as a libFuzzer binary (clang, ASan + UBSan) and runs each for
# a fixed time on a scratch copy of its seed corpus (tests/fuzz/corpus/<name>/). Any crash, leak,
# sanitizer report or timeout fails the script; the crashing input is left in $out/<name>/.
#
#   LADLE_FUZZ_SECONDS   seconds per target (default 30)
#   LADLE_FUZZ_JOBS      targets built and run at once (default 2)
#   LADLE_FUZZ_OUT       build and scratch directory (default build-fuzz)
#   LADLE_FUZZ_TARGETS   space-separated names to limit the run (default: all)
#   LADLE_FUZZ_ARGS      extra libFuzzer flags (e.g. "-jobs=4 -workers=4")
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${LADLE_FUZZ_SECONDS:-30}
jobs=${LADLE_FUZZ_JOBS:-2}
out=${LADLE_FUZZ_OUT:-build-fuzz}
cxx=${CXX_FUZZ:-clang++}
mkdir -p "$out"

names=()
for src in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" _fuzz.cpp)
  if [ -n "${LADLE_FUZZ_TARGETS:-}" ] && [[ " $LADLE_FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  names+=("$name")
done
((${#names[@]})) || { echo "no fuzz targets"; exit 1; }

# LADLE_MAX_ALLOCATION_BYTES caps a single buffer at 16 MiB: a request the fuzzer makes legal
# but huge (a tensor of 2^30 floats) is then refused like an absurd one instead of spending
# seconds zero-filling gigabytes under ASan.
build() {
  local name=$1
  "$cxx" -std=c++17 -O1 -g -fno-omit-frame-pointer -DLADLE_MAX_ALLOCATION_BYTES=16777216 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -Itests/fuzz -I/usr/include/eigen3 \
    "tests/fuzz/${name}_fuzz.cpp" -o "$out/${name}_fuzz"
}

run() {
  local name=$1 work="$out/$1"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  if [ -d "tests/fuzz/corpus/$name" ]; then cp -r "tests/fuzz/corpus/$name/." "$work/corpus/"; fi
  # -timeout: a single input running over 10 s is a finding (a hang), as is any crash.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/${name}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$work/" ${LADLE_FUZZ_ARGS:-} "$work/corpus" \
    > "$work/log.txt" 2>&1
  local rc=$?
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$work/log.txt" | sed "s/^/$name: /"
  if [ $rc -ne 0 ]; then
    echo "$name: FAILED (exit $rc); see $work/log.txt"
    tail -40 "$work/log.txt"
    return 1
  fi
  echo "$name: ok (${seconds}s)"
}

export -f build run
export out seconds cxx
echo "building: ${names[*]}"
printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'build {}'
printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run {}'
