#!/usr/bin/env bash
# The README's main job: train the default GAN (examples/dcgan: DCGAN on Fashion-MNIST) for five
# minutes on two threads and write its 8x8 sample grid.
#
#   bash scripts/run_main_job.sh            # from the repository root, as root on a fresh Debian 12
#
# Steps: install the Debian packages (scripts/setup.sh; it changes nothing when they are there),
# configure build-main/ in Release with the examples only, build the dcgan program, and run
#   dcgan --minutes 5 --threads 2 --seed 0 --out out/dcgan
# which writes out/dcgan/{grid.png,samples.idx,metrics.csv,checkpoint.gant}. Extra arguments are
# passed on to dcgan (e.g. --minutes 1, or --resume out/dcgan/checkpoint.gant to continue).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

build=build-main
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DGANT_BUILD_TESTS=OFF -DGANT_BUILD_BENCH=OFF -DGANT_BUILD_EXAMPLES=ON -DGANT_INSTALL=OFF >/dev/null
cmake --build "$build" --target dcgan -j "$(nproc)"

"$build/examples/dcgan" --minutes 5 --threads 2 --seed 0 --out out/dcgan "$@"

echo "main job: the 8x8 sample grid is $(pwd)/out/dcgan/grid.png"
