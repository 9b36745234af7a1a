#!/usr/bin/env bash
# Prints a short hash of the sources the packed GPU programs are built from (the library's
# headers, the CUDA backend, the tests, the examples, the benchmarks), the same way on the
# machine that builds the pack (pack_gant_gpu_tests.sh) and on the GPU machine that runs it
# (run_step_check.sh), which has a copy of the tree but maybe no git: a pack built from other
# sources than the tree it runs in is then reported instead of silently tested.
# Usage: bash bench/gpu/source_hash.sh [--newest] [ROOT]
#   --newest  print the most recently modified of those files instead (the pack script's check
#             that the programs were built after every source changed)
set -euo pipefail
newest=0
[[ ${1:-} == --newest ]] && { newest=1; shift; }
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"
sources() {
    find include cuda tests examples bench -type f \
        \( -name '*.hpp' -o -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' -o -name 'CMakeLists.txt' \) \
        -print0
}
if ((newest)); then
    sources | xargs -0 stat --format '%Y %n' | sort -n | tail -1 | cut -d' ' -f2- | sed "s|^|$root/|"
else
    sources | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
fi
