#!/usr/bin/env bash
# Builds gant's libFuzzer targets with clang (build-fuzz/, -DGANT_FUZZ=ON) and runs each for a
# bounded time on a copy of its committed seed corpus (tests/fuzz/corpus/<target>/):
#
#   bash scripts/fuzz.sh          # 60 s per target
#   bash scripts/fuzz.sh 600      # 10 minutes per target
#
# Exits non-zero when a target finds a crash, a sanitizer report (ASan, UBSan), a leak, an input
# that takes over 10 s, or an allocation above 2 GB; the input that did it is left in
# build-fuzz/fuzz-run/artifacts/ and its report is printed. To keep it as a regression test, copy
# the input into tests/fuzz/corpus/<target>/ and add a unit test beside the parser's others.
# New interesting inputs found during the run stay in build-fuzz/fuzz-run/<target>/, not in the
# source tree. Set GANT_FUZZ_DIR to build elsewhere.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${GANT_FUZZ_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
jobs="${GANT_JOBS:-$(nproc)}"
targets=(idx checkpoint)

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found; run scripts/setup.sh (it installs clang and libFuzzer)" >&2
  exit 1
fi

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANT_FUZZ=ON \
  -DGANT_BUILD_EXAMPLES=OFF -DGANT_BUILD_BENCH=OFF -DGANT_ENABLE_CUDA=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

work="$build/fuzz-run"
rm -rf "$work"
mkdir -p "$work/artifacts"
# The targets run side by side (libFuzzer uses one core each), so the wall time is one budget.
pids=()
for t in "${targets[@]}"; do
  cp -r "$root/tests/fuzz/corpus/$t" "$work/$t"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" "$work/$t" >"$work/$t.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  t="${targets[$i]}"
  log="$work/$t.log"
  if wait "${pids[$i]}"; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz: fuzz_$t: ${runs:-?} inputs in ${seconds} s, no findings"
  else
    status=1
    echo "fuzz: fuzz_$t FOUND A PROBLEM (input: $(ls "$work/artifacts/" | grep "^$t-" | head -1); full log: $log)" >&2
    grep -v '^#[0-9]' "$log" | tail -60 >&2
  fi
done
exit $status
