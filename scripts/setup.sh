#!/usr/bin/env bash
# Installs everything gant needs to build, test and train, from Debian 12's own packages.
# Idempotent: when every package is already installed it changes nothing and takes a moment.
# Run as root (or through sudo); non-interactive, so it also serves CI.
set -euo pipefail

packages=(
  build-essential cmake g++ pkg-config
  libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev   # tensors
  libopenblas-dev                                           # GEMM
  libboost-test-dev                                         # unit tests
  zlib1g-dev libstb-dev                                     # gzipped IDX datasets, PNG grids
  libcli11-dev nlohmann-json3-dev                           # example programs: flags, metrics
  dataset-fashion-mnist                                     # /usr/share/datasets/fashion-mnist
  clang libclang-rt-14-dev                                  # scripts/fuzz.sh: clang and libFuzzer
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this script as root (sudo bash scripts/setup.sh) to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
