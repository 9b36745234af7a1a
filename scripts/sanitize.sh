#!/usr/bin/env bash
# Builds gant's unit tests and example programs with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DGANT_SANITIZE=ON) in build-asan/ and runs them with CTest. Any finding (out-of-bounds access,
# use after free, leak, undefined behaviour) aborts the test that hit it, so the script fails.
#
#   bash scripts/sanitize.sh            # configure, build, run
#   GANT_ASAN_DIR=/tmp/asan bash scripts/sanitize.sh
#
# Optimised for debugging, -Og -g1 (asserts on), not Debug and not RelWithDebInfo's -O2 -g: at -O0
# the training tests run many times slower under ASan, and the sanitizers' instrumentation of
# gant's template-heavy files multiplies what every optimisation pass costs. -Og keeps every check
# (ASan instruments each load and store that is left, and -Og leaves more of them than -O1), -g1
# gives reports file and line numbers. Measured 2026-11-29 on 2 vCPUs, this build's tests and
# examples: -O1 -g1 ~800-850 s to build and 152 s to test; -Og -g1 513 s and 203 s.
#
# Left out, by CTest label:
#   compile_fail, package  they test what the compiler accepts and how gant installs; nothing
#                          runs that a sanitizer could check, and they cost minutes of compiling.
#   asan_slow              tests too slow under ASan for CI (none at present; label a test
#                          with it in CMake and say why there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${GANT_ASAN_DIR:-$root/build-asan}"
jobs="${GANT_JOBS:-$(nproc)}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-Og -g1" \
  -DGANT_SANITIZE=ON \
  -DGANT_BUILD_BENCH=OFF -DGANT_ENABLE_CUDA=OFF
cmake --build "$build" -j "$jobs"

# halt_on_error / abort: the first finding fails its test with the report in the output.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
ctest --output-on-failure -j 2 -LE 'compile_fail|package|asan_slow' --timeout 900
