#!/usr/bin/env bash
# Packs the GPU tests that need gant's whole build (xtensor, BLAS, Boost.Test: test_cuda_network,
# test_cuda_batch_source) with the shared libraries they need that a GPU machine's image lacks,
# so that run_conv_check.sh can run them there (GANT_PREBUILT_TESTS). The GPU machines lent here
# have the CUDA toolkit but not gant's other dependencies; the tests are built on a machine that
# has them (nvcc included) and copied over.
#
# Usage: bash bench/gpu/pack_gant_gpu_tests.sh BUILD_DIR OUT_DIR
#   BUILD_DIR  gant's build folder (CUDA on; `cmake --build BUILD_DIR --target test_cuda_network
#              test_cuda_batch_source` first), configured with -DGANT_TEST_OPTIMIZATION=-O2 so
#              that the tests' CPU references run at full speed on the GPU machine's clock
#   OUT_DIR    gets bin/ (the tests) and lib/ (every library ldd resolves outside the C library,
#              the C++ runtime and CUDA's own, which the GPU machine has), data/ (a dataset
#              slice); OUT_DIR.tar.xz is the same, compressed, for the device tool's carry
set -euo pipefail
build=${1:?usage: pack_gant_gpu_tests.sh BUILD_DIR OUT_DIR}
out=${2:?usage: pack_gant_gpu_tests.sh BUILD_DIR OUT_DIR}
programs=(tests/test_cuda_network tests/test_cuda_batch_source tests/test_cuda_training tests/test_cuda_sagan_layers
    tests/test_cuda_gan_step bench/gant_bench_cuda_step)
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
# The example built for the GPU, when this build has it (examples/CMakeLists.txt).
[[ -x $build/examples/dcgan_cuda ]] && programs+=(../examples/dcgan_cuda)
for t in "${programs[@]}"; do
    binary=$build/cuda/$t
    [[ -x $binary ]] || { echo "pack_gant_gpu_tests: $binary is not built" >&2; exit 1; }
    cp -p "$binary" "$out/bin/"  # -p: keep the build time for the staleness check below
    # Libraries to carry: everything but glibc's, the compiler runtime's and CUDA's.
    ldd "$binary" | awk '/=> \// { print $3 }' | while read -r lib; do
        case $(basename "$lib") in
            libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libgcc_s.so* | libstdc++.so* | \
                libcudart.so* | libcublas.so* | libcublasLt.so* | libcuda.so*) ;;
            *) cp -L "$lib" "$out/lib/" ;;
        esac
    done
done
# A slice of Fashion-MNIST (the first 512 training images, a valid IDX file) for the example's
# smoke run, when the dataset is installed here (apt-get install dataset-fashion-mnist).
dataset=${GANT_DATASET:-/usr/share/datasets/fashion-mnist}
for name in train-images-idx3-ubyte train-images-idx3-ubyte.gz; do
    if [[ -f $dataset/$name ]]; then
        mkdir -p "$out/data"
        python3 - "$dataset/$name" "$out/data/train-images-idx3-ubyte" <<'PY'
import gzip, struct, sys
source, target = sys.argv[1], sys.argv[2]
opener = gzip.open if source.endswith(".gz") else open
with opener(source, "rb") as f:
    magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
    keep = min(count, 512)
    pixels = f.read(keep * rows * cols)
with open(target, "wb") as f:
    f.write(struct.pack(">IIII", magic, keep, rows, cols) + pixels)
PY
        break
    fi
done
# What the programs were built from, for run_step_check.sh's staleness check: the source hash
# (source_hash.sh) of this tree, which should be the tree the build folder was built from, and
# the programs' build times next to the newest source file's.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/source_hash.sh" >"$out/SOURCE_HASH"
{
    echo "packed $(date -u +%FT%TZ) from $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')$(
        git -C "$here" diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
    newest=$(bash "$here/source_hash.sh" --newest)
    echo "newest source: $(date -u -r "$newest" +%FT%TZ) $newest"
    for t in "$out"/bin/*; do echo "built $(date -u -r "$t" +%FT%TZ) $(basename "$t")"; done
} >"$out/BUILD_INFO"
for t in "$out"/bin/*; do
    if [[ $t -ot $newest ]]; then
        echo "pack_gant_gpu_tests: $(basename "$t") is older than $newest: rebuild it first" >&2
        exit 1
    fi
done
# The device tool carries at most 64 MiB: the folder (about 90 MB, OpenBLAS and every
# program's copy of the kernels' fatbin) is also written as OUT_DIR.tar.xz (about 20 MB), which
# run_step_check.sh unpacks when the folder is not there.
tar -C "$out" -cJf "$out.tar.xz" .
du -sh "$out" "$out.tar.xz"
