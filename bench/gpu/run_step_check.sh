#!/usr/bin/env bash
# Issue 9's check on a GPU machine, in one call: gant's whole training step on the device against
# the CPU and against PyTorch.
#
# The GPU machines lent here have the CUDA toolkit but not gant's other dependencies (xtensor,
# BLAS, Boost), so the programs are built beforehand on a machine that has them and packed:
#     cmake --build build --target test_cuda_network test_cuda_batch_source test_cuda_training \
#         test_cuda_sagan_layers test_cuda_gan_step gant_bench_cuda_step dcgan_cuda
#     bash bench/gpu/pack_gant_gpu_tests.sh build .gpu-tests
# and this script runs them from that folder (GANT_PREBUILT_TESTS, default .gpu-tests), or
# unpacks .gpu-tests.tar.xz first (carry that one: the folder exceeds the device tool's 64 MiB).
# The pack records a hash of the sources it was built from; this script computes the same hash
# of the tree it runs in and reports a stale pack as a failure (the programs still run).
#
# A device call lasts at most 600 s and a session's device time is short, so the steps run in
# order of what they tell, each limited to what is left of GANT_STEP_BUDGET (seconds, default
# 540); a step that no longer fits is reported as NOT RUN:
#   1. test_cuda_gan_step: one DCGAN, WGAN-GP and SAGAN iteration against the CPU's gradients,
#      200 iterations on each backend from the same seed, checkpoints across backends, the NaN
#      guard, no allocation in steady state
#   2. gant_bench_cuda_step and bench/gpu/torch_train_step.py (PyTorch eager, cuDNN default) on
#      the DCGAN 64x64 and WGAN-GP 64x64 iterations at batch 64 and 256 (GANT_BENCH=0: skipped)
#   3. the device layers, optimisers, moving average and batch source against the CPU
#      (test_cuda_training, test_cuda_sagan_layers, test_cuda_network, test_cuda_batch_source)
#   4. compute-sanitizer memcheck over one DCGAN iteration and the device optimisers
#      (GANT_MEMCHECK=0: skipped)
#   5. the dcgan example built for the GPU (dcgan_cuda --smoke) when a Fashion-MNIST folder is
#      in the pack (GANT_DATA or PACK/data)
# and last a table: milliseconds per iteration and the ratio PyTorch / gant (above 1: gant is
# faster). A failing step does not stop the others; the script exits non-zero if any failed, was
# skipped (77), did not run, or the pack is stale or incomplete.
#
# Environment: OUT (folder for step_check.log, step_table.txt, gant_step.json, torch_step.json;
# default ./step-out), GANT_PREBUILT_TESTS, GANT_STEP_BUDGET, GANT_LONG_RUN_STEPS (iterations of
# the long runs, default 200), GANT_TEST_SEED (default fixed here, so that a failure replays; the
# tests print it), GANT_BENCH=0, GANT_MEMCHECK=0.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
pack=${GANT_PREBUILT_TESTS:-$root/.gpu-tests}
out=${OUT:-$PWD/step-out}
mkdir -p "$out"
log=$out/step_check.log
: >"$log"
started=$(date +%s)
budget=${GANT_STEP_BUDGET:-540}
summary=()
failed=0
export GANT_TEST_SEED=${GANT_TEST_SEED:-20261128}

say() { echo "$@" | tee -a "$log"; }
section() { say ""; say "==== $* ($(($(date +%s) - started)) s) ===="; }
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda_lib=$(dirname "$(dirname "$nvcc")")/lib64
export LD_LIBRARY_PATH="$pack/lib:$cuda_lib:${LD_LIBRARY_PATH:-}"
run() {  # run NAME TIMEOUT CMD...: TIMEOUT is cut to what is left of the budget
    local name=$1 limit=$2
    shift 2
    local left=$((budget - ($(date +%s) - started) - 15))
    ((left < limit)) && limit=$left
    if ((limit < 20)); then
        say "$name: not run, the budget ($budget s) is spent"
        summary+=("NOT RUN  $name (budget spent)")
        failed=1
        return
    fi
    say "-- $name (limit ${limit} s)"
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    case $rc in
        0) summary+=("PASS  $name") ;;
        77) summary+=("SKIP  $name (77: no usable GPU or no data)"); failed=1 ;;
        124 | 137) summary+=("FAIL  $name (timed out after ${limit}s)"); failed=1 ;;
        *) summary+=("FAIL  $name (exit code $rc)"); failed=1 ;;
    esac
}
# program NAME: sets p to the packed program's path, or records it as MISSING and fails. Not
# called in $(...): a subshell would lose the summary line and the failure.
program() {
    p=$pack/bin/$1
    [[ -x $p ]] && return 0
    say "$1 is not in the pack"
    summary+=("MISSING  $1")
    failed=1
    return 1
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

# The pack's source hash (pack_gant_gpu_tests.sh) against this tree's.
here_hash=$(bash "$here/source_hash.sh" "$root")
pack_hash=$(cat "$pack/SOURCE_HASH" 2>/dev/null || echo none)
say "sources here: $here_hash; pack built from: $pack_hash"
cat "$pack/BUILD_INFO" 2>/dev/null | tee -a "$log"
if [[ $here_hash != "$pack_hash" ]]; then
    say "WARNING: the pack was not built from these sources; rebuild it (top of this script)"
    summary+=("STALE  the pack (built from $pack_hash, sources here $here_hash)")
    failed=1
fi

section "1. whole iterations against the CPU (test_cuda_gan_step)"
if program test_cuda_gan_step; then run test_cuda_gan_step 420 "$p"; fi

section "2. step timings: gant and PyTorch"
if [[ ${GANT_BENCH:-1} != 0 ]]; then
    if program gant_bench_cuda_step; then run gant_bench_cuda_step 240 "$p" --json "$out/gant_step.json"; fi
    if python3 -c 'import torch' >/dev/null 2>&1; then
        run torch_train_step 240 python3 "$here/torch_train_step.py" --device cuda --json "$out/torch_step.json"
    else
        say "PyTorch not importable: peer not timed"
    fi
else
    say "GANT_BENCH=0: not timed"
fi

section "3. device layers, optimisers, moving average, batch source"
for t in test_cuda_training test_cuda_sagan_layers test_cuda_network test_cuda_batch_source; do
    if program "$t"; then run "$t" 240 "$p"; fi
done

section "4. compute-sanitizer memcheck"
sanitizer=$(command -v compute-sanitizer || true)
[[ -z $sanitizer && -x $(dirname "$nvcc")/compute-sanitizer ]] && sanitizer=$(dirname "$nvcc")/compute-sanitizer
if [[ ${GANT_MEMCHECK:-1} == 0 ]]; then
    say "GANT_MEMCHECK=0: memcheck not run"
elif [[ -z $sanitizer ]]; then
    say "compute-sanitizer not found: memcheck not run"
    summary+=("NOT RUN  memcheck (no compute-sanitizer)")
    failed=1
else
    if program test_cuda_gan_step; then
        GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_gan_step (one iteration)" 240 \
            "$sanitizer" --tool memcheck --error-exitcode 99 "$p" --run_test=one_iteration_against_the_cpu/dcgan
    fi
    if program test_cuda_training; then
        GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_training" 180 \
            "$sanitizer" --tool memcheck --error-exitcode 99 "$p"
    fi
fi

section "5. the dcgan example on the GPU"
data=${GANT_DATA:-$pack/data}
if [[ ! -d $data ]]; then
    say "no Fashion-MNIST slice in the pack ($data): dcgan_cuda not run"
    summary+=("NOT RUN  dcgan_cuda --smoke (no data)")
    failed=1
elif program dcgan_cuda; then
    run "dcgan_cuda --smoke" 180 "$p" --smoke --data "$data"
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
