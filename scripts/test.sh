#!/usr/bin/env bash
# Configures, builds and runs gant's whole test suite (unit tests, negative-compile tests and
# the packaging tests) in build/, Release. Usage: bash scripts/test.sh [extra cmake options]
# Set GANT_BUILD_DIR to build elsewhere.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${GANT_BUILD_DIR:-$root/build}"
jobs="$(nproc)"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j 2
