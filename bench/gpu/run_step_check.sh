#!/usr/bin/env bash
# Issue 9's check on a GPU machine, in one call (a few minutes on an H100): gant's whole training
# step on the device against the CPU and against PyTorch.
#
# The GPU machines lent here have the CUDA toolkit but not gant's other dependencies (xtensor,
# BLAS, Boost), so the programs are built beforehand on a machine that has them and packed:
#     cmake --build build --target test_cuda_network test_cuda_batch_source test_cuda_training \
#         test_cuda_sagan_layers test_cuda_gan_step gant_bench_cuda_step dcgan_cuda
#     bash bench/gpu/pack_gant_gpu_tests.sh build .gpu-tests
# and this script runs them from that folder (GANT_PREBUILT_TESTS, default .gpu-tests), or
# unpacks .gpu-tests.tar.xz first (carry that one: the folder exceeds the device tool's 64 MiB):
#   1. the device layers, optimisers, moving average and batch source against the CPU
#      (test_cuda_network, test_cuda_sagan_layers, test_cuda_training, test_cuda_batch_source)
#   2. test_cuda_gan_step: one DCGAN and one WGAN-GP iteration against the CPU's gradients, 200
#      iterations on each backend from the same seed, checkpoints across backends
#   3. compute-sanitizer memcheck over the one-iteration tests and the device optimisers
#   4. the dcgan example built for the GPU (dcgan_cuda --smoke) when a Fashion-MNIST folder is
#      in the pack (GANT_DATA or PACK/data)
#   5. gant_bench_cuda_step and bench/gpu/torch_train_step.py (PyTorch eager, cuDNN default) on
#      the DCGAN 64x64 and WGAN-GP 64x64 iterations at batch 64 and 256, and a table last:
#      milliseconds per iteration and the ratio PyTorch / gant (above 1: gant is faster).
# A failing step does not stop the others; the script exits non-zero if any failed.
#
# Environment: OUT (folder for step_check.log, step_table.txt, gant_step.json, torch_step.json;
# default ./step-out), GANT_PREBUILT_TESTS, GANT_LONG_RUN_STEPS (iterations of the long runs,
# default 200), GANT_BENCH=0 (tests only), GANT_MEMCHECK=0 (no compute-sanitizer).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
pack=${GANT_PREBUILT_TESTS:-$root/.gpu-tests}
out=${OUT:-$PWD/step-out}
mkdir -p "$out"
log=$out/step_check.log
: >"$log"
started=$(date +%s)
summary=()
failed=0

say() { echo "$@" | tee -a "$log"; }
section() { say ""; say "==== $* ($(($(date +%s) - started)) s) ===="; }
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda_lib=$(dirname "$(dirname "$nvcc")")/lib64
export LD_LIBRARY_PATH="$pack/lib:$cuda_lib:${LD_LIBRARY_PATH:-}"
run() {  # run NAME TIMEOUT CMD...
    local name=$1 limit=$2
    shift 2
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    case $rc in
        0) summary+=("PASS  $name") ;;
        77) summary+=("SKIP  $name (77: no usable GPU or no data)"); failed=1 ;;
        124 | 137) summary+=("FAIL  $name (timed out after ${limit}s)"); failed=1 ;;
        *) summary+=("FAIL  $name (exit code $rc)"); failed=1 ;;
    esac
}

section "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log"
if [[ ! -d $pack/bin && -f $pack.tar.xz ]]; then
    mkdir -p "$pack" && tar -C "$pack" -xJf "$pack.tar.xz"
fi
if [[ ! -d $pack/bin ]]; then
    say "no packed programs in $pack (see the top of this script)"
    exit 1
fi
ls "$pack/bin" | tee -a "$log"

section "1. device layers, optimisers, moving average, batch source"
for t in test_cuda_network test_cuda_sagan_layers test_cuda_training test_cuda_batch_source; do
    [[ -x $pack/bin/$t ]] && run "$t" 300 "$pack/bin/$t"
done

section "2. whole iterations against the CPU (test_cuda_gan_step)"
[[ -x $pack/bin/test_cuda_gan_step ]] && run test_cuda_gan_step 420 "$pack/bin/test_cuda_gan_step"

section "3. compute-sanitizer memcheck"
sanitizer=$(command -v compute-sanitizer || true)
[[ -z $sanitizer && -x $(dirname "$nvcc")/compute-sanitizer ]] && sanitizer=$(dirname "$nvcc")/compute-sanitizer
if [[ ${GANT_MEMCHECK:-1} != 0 && -n $sanitizer ]]; then
    GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_gan_step (one iteration)" 300 \
        "$sanitizer" --tool memcheck --error-exitcode 99 "$pack/bin/test_cuda_gan_step" \
        --run_test=one_iteration_against_the_cpu/dcgan
    [[ -x $pack/bin/test_cuda_training ]] && GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_training" 180 \
        "$sanitizer" --tool memcheck --error-exitcode 99 "$pack/bin/test_cuda_training"
else
    say "memcheck: not run"
fi

section "4. the dcgan example on the GPU"
data=${GANT_DATA:-$pack/data}
if [[ -x $pack/bin/dcgan_cuda && -d $data ]]; then
    run "dcgan_cuda --smoke" 300 "$pack/bin/dcgan_cuda" --smoke --data "$data"
else
    say "dcgan_cuda or its data ($data) not in the pack: not run"
fi

section "5. step timings: gant and PyTorch"
if [[ ${GANT_BENCH:-1} != 0 ]]; then
    [[ -x $pack/bin/gant_bench_cuda_step ]] &&
        run gant_bench_cuda_step 300 "$pack/bin/gant_bench_cuda_step" --json "$out/gant_step.json"
    if python3 -c 'import torch' >/dev/null 2>&1; then
        run torch_train_step 300 python3 "$here/torch_train_step.py" --device cuda --json "$out/torch_step.json"
    else
        say "PyTorch not importable: peer not timed"
    fi
fi

section "status"
for line in "${summary[@]}"; do say "$line"; done
if [[ -f $out/gant_step.json && -f $out/torch_step.json ]]; then
    python3 - "$out/gant_step.json" "$out/torch_step.json" <<'PY' | tee "$out/step_table.txt" | tee -a "$log"
import json, sys
gant = {(r["workload"], r["batch"]): r["ms"] for r in json.load(open(sys.argv[1]))["results"]}
torch = {(r["workload"], r["batch"]): r["ms"] for r in json.load(open(sys.argv[2]))["results"]}
print(f"{'workload':10s} {'batch':>5s} {'gant ms':>9s} {'torch ms':>9s} {'torch/gant':>10s}")
for key in sorted(gant):
    if key in torch:
        print(f"{key[0]:10s} {key[1]:5d} {gant[key]:9.3f} {torch[key]:9.3f} {torch[key] / gant[key]:10.2f}")
PY
fi
say "total $(($(date +%s) - started)) s"
exit $failed
