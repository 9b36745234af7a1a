#!/usr/bin/env bash
# One call on a GPU machine (about 8 minutes on an H100, build included): builds gant's CUDA
# kernels, tests and the cuDNN benchmark (standalone: `cmake -S cuda`, Release, sm_90; it needs
# only CMake, nvcc and the CUDA runtime, no xtensor, BLAS or Boost), runs
#   1. test_cuda_emulation  the kernels' index arithmetic on the CPU
#   2. test_cuda_conv       every kernel on the GPU against the double-precision CPU reference
#   2b. test_cuda_elementwise, _objectives, _normalization, _gemm, _attention  the element-wise
#      kernels, device random numbers, losses, penalty steps, batch/layer norm, cuBLAS products
#      and self-attention's row passes against their passes replayed on the CPU
#   2c. GANT_PREBUILT_TESTS (a folder from bench/gpu/pack_gant_gpu_tests.sh): gant's own GPU tests
#      (test_cuda_network, test_cuda_batch_source), built on a machine with gant's dependencies
#   3. compute-sanitizer memcheck over test_cuda_conv's odd-size cases (uncached allocations)
#      and over the part-2 tests, and racecheck over two conv cases, when
#      compute-sanitizer is installed
#   4. gant_bench_cuda_conv every conv path on the DCGAN 28x28 and 64x64 layers at batch 64 and
#      256 against cuDNN: TFLOP/s and the ratio ours/cuDNN
#   5. the PyTorch peer of issue 9's step benchmark (torch_train_step.py), when python3 has torch
#   6. ncu (Nsight Compute), when installed and GANT_NCU is not 0: one profile of each kernel
#      (two-stage and pipelined) on two large layers, for the stall reasons and occupancy
# and prints a short table last. A failing test does not stop the timing; the final status
# lines say what failed, and the script exits non-zero if anything did.
#
# Usage (from anywhere):  bash bench/gpu/run_conv_check.sh
# Environment: OUT (a folder: conv_check.log, bench.log, conv_table.txt, torch_step.json and ncu.log are written
# there; default build-gpu/out; each step's own log is in build-gpu/logs),
# GANT_GPU_BUILD (build folder; default build-gpu), GANT_CUDNN_ROOT (cuDNN's folder, if the
# script does not find it), GANT_BENCH_BUDGET (seconds after which the benchmark stops sweeping
# configurations; default 150), GANT_RACECHECK=0 (skip racecheck), GANT_NCU=0 (skip the profiles), GANT_BENCH=0 (skip
# the cuDNN benchmark and the PyTorch peer: tests and sanitizers only), GANT_PREBUILT_TESTS (see 2c).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GANT_GPU_BUILD:-$root/build-gpu}
out=${OUT:-$build/out}
mkdir -p "$out"
log=$out/conv_check.log
# Each step's own log stays in the build folder (the device tool brings back at most 8 files
# from $OUT); conv_check.log has every step's output in order.
logs=$build/logs
mkdir -p "$logs"
: >"$log"
started=$(date +%s)
failures=()
summary=()

say() { echo "$@" | tee -a "$log"; }
section() { say ""; say "==== $* ($(($(date +%s) - started)) s) ===="; }
# run NAME LOGFILE TIMEOUT CMD...: runs CMD with a time limit, output to the console and LOGFILE;
# records the outcome instead of stopping the script.
run() {
    local name=$1 file=$2 limit=$3
    shift 3
    local rc=0
    set +e
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$file"
    rc=${PIPESTATUS[0]}
    set -e
    cat "$file" >>"$log"
    if [[ $rc -eq 0 ]]; then
        summary+=("PASS  $name")
    elif [[ $rc -eq 77 ]]; then
        summary+=("SKIP  $name (exit code 77: no usable CUDA device)")
        failures+=("$name")
    elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
        summary+=("FAIL  $name (timed out after ${limit}s)")
        failures+=("$name")
    else
        summary+=("FAIL  $name (exit code $rc)")
        failures+=("$name")
    fi
    return 0
}

section "versions"
{
    uname -a
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv || true
    else
        echo "nvidia-smi: not installed"
    fi
} 2>&1 | tee -a "$log"
nvcc=${CUDACXX:-}
[[ -z $nvcc ]] && nvcc=$(command -v nvcc || true)
[[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
if [[ -z $nvcc ]]; then
    say "no nvcc found (PATH, CUDACXX, /usr/local/cuda/bin): cannot build"
    exit 1
fi
{
    "$nvcc" --version | tail -n 2
    cmake --version | head -n 1
    "${CXX:-c++}" --version | head -n 1 || true
} 2>&1 | tee -a "$log"

# cuDNN: next to the toolkit, or the nvidia-cudnn wheel of the Python that has PyTorch.
cudnn_root=${GANT_CUDNN_ROOT:-}
if [[ -z $cudnn_root ]]; then
    for candidate in "$(dirname "$(dirname "$nvcc")")" /usr/local/cuda /usr; do
        if [[ -f $candidate/include/cudnn.h ]]; then cudnn_root=$candidate; break; fi
    done
fi
if [[ -z $cudnn_root ]] && command -v python3 >/dev/null 2>&1; then
    cudnn_root=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
fi
if [[ -n $cudnn_root ]]; then
    say "cuDNN: $cudnn_root"
    for d in "$cudnn_root/lib" "$cudnn_root/lib64"; do
        [[ -d $d ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    done
else
    say "cuDNN: not found; the benchmark will time gant's kernels only"
fi

section "configure and build ($build)"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [[ -f $build/CMakeCache.txt ]] && ! grep -q "CMAKE_HOME_DIRECTORY:INTERNAL=$root/cuda" "$build/CMakeCache.txt"; then
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
if ! cmake -S "$root/cuda" -B "$build" ${generator[@]+"${generator[@]}"} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DGANT_CUDNN_ROOT="$cudnn_root" 2>&1 | tee -a "$log"; then
    say "FAIL  configure"
    exit 1
fi
if ! cmake --build "$build" -j "$(nproc)" 2>&1 | tee -a "$log"; then
    say "FAIL  build"
    exit 1
fi
tests=$build/tests
bench=$build/bench/gant_bench_cuda_conv

section "test_cuda_emulation (CPU)"
run test_cuda_emulation "$logs/test_cuda_emulation.log" 300 "$tests/test_cuda_emulation"

section "test_cuda_conv (GPU)"
run test_cuda_conv "$logs/test_cuda_conv.log" 300 "$tests/test_cuda_conv"

section "part 2: test_cuda_elementwise, _objectives, _normalization, _gemm, _attention (GPU)"
run test_cuda_elementwise "$logs/test_cuda_elementwise.log" 120 "$tests/test_cuda_elementwise"
run test_cuda_objectives "$logs/test_cuda_objectives.log" 120 "$tests/test_cuda_objectives"
run test_cuda_normalization "$logs/test_cuda_normalization.log" 120 "$tests/test_cuda_normalization"
run test_cuda_gemm "$logs/test_cuda_gemm.log" 120 "$tests/test_cuda_gemm"
run test_cuda_attention "$logs/test_cuda_attention.log" 120 "$tests/test_cuda_attention"

section "gant's own GPU tests, built elsewhere (GANT_PREBUILT_TESTS)"
# test_cuda_network and test_cuda_batch_source need gant's whole build (xtensor, BLAS, Boost),
# which the GPU machine lacks; bench/gpu/pack_gant_gpu_tests.sh packs them, built on a machine
# that has it, with their libraries.
prebuilt=${GANT_PREBUILT_TESTS:-}
cuda_lib=$(dirname "$(dirname "$nvcc")")/lib64
if [[ -n $prebuilt && -d $prebuilt/bin ]]; then
    for t in "$prebuilt"/bin/*; do
        name=$(basename "$t")
        run "$name (prebuilt)" "$logs/$name.log" 240 env LD_LIBRARY_PATH="$prebuilt/lib:$cuda_lib:${LD_LIBRARY_PATH:-}" "$t"
    done
else
    say "no GANT_PREBUILT_TESTS folder: test_cuda_network and test_cuda_batch_source not run"
fi

section "compute-sanitizer"
sanitizer=$(command -v compute-sanitizer || true)
for candidate in "$(dirname "$nvcc")/compute-sanitizer" /usr/local/cuda/bin/compute-sanitizer \
    /usr/local/cuda/compute-sanitizer/compute-sanitizer /opt/nvidia/compute-sanitizer/compute-sanitizer; do
    [[ -z $sanitizer && -x $candidate ]] && sanitizer=$candidate
done
if [[ -n $sanitizer ]]; then
    say "using $sanitizer ($("$sanitizer" --version | tail -n 1))"
    # Odd sizes only (GANT_CUDA_TEST_QUICK): the tools run kernels far slower. Uncached
    # allocations, so that memcheck knows where each buffer really ends.
    GANT_CUDA_TEST_QUICK=1 GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_conv (odd sizes)" \
        "$logs/memcheck.log" 300 "$sanitizer" --tool memcheck --error-exitcode 99 "$tests/test_cuda_conv" --run_test=conv
    GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_elementwise" "$logs/memcheck_elementwise.log" 180 \
        "$sanitizer" --tool memcheck --error-exitcode 99 "$tests/test_cuda_elementwise"
    GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_objectives" "$logs/memcheck_objectives.log" 120 \
        "$sanitizer" --tool memcheck --error-exitcode 99 "$tests/test_cuda_objectives"
    GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_normalization (odd sizes)" \
        "$logs/memcheck_normalization.log" 120 "$sanitizer" --tool memcheck --error-exitcode 99 \
        "$tests/test_cuda_normalization" --run_test=normalization_on_the_gpu/odd_sizes
    GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_attention" "$logs/memcheck_attention.log" 180 \
        "$sanitizer" --tool memcheck --error-exitcode 99 "$tests/test_cuda_attention"
    if [[ -n $prebuilt && -x $prebuilt/bin/test_cuda_network ]]; then
        GANT_CUDA_UNCACHED_ALLOCATOR=1 run "memcheck test_cuda_network (small networks)" "$logs/memcheck_network.log" 240 \
            env LD_LIBRARY_PATH="$prebuilt/lib:$cuda_lib:${LD_LIBRARY_PATH:-}" "$sanitizer" --tool memcheck \
            --error-exitcode 99 "$prebuilt/bin/test_cuda_network" --run_test=small_networks_match_the_cpu
    fi
    if [[ ${GANT_RACECHECK:-1} != 0 ]]; then
        GANT_CUDA_TEST_QUICK=2 run "racecheck conv2d passes (2 odd sizes)" "$logs/racecheck.log" 240 \
            "$sanitizer" --tool racecheck --error-exitcode 99 "$tests/test_cuda_conv" --run_test=conv2d/
        run "racecheck normalization (odd sizes)" "$logs/racecheck_normalization.log" 120 \
            "$sanitizer" --tool racecheck --error-exitcode 99 "$tests/test_cuda_normalization" \
            --run_test=normalization_on_the_gpu/odd_sizes
    else
        summary+=("SKIP  racecheck (GANT_RACECHECK=0)")
    fi

else
    say "compute-sanitizer: not installed, memcheck skipped"
    summary+=("SKIP  compute-sanitizer (not installed)")
fi

section "benchmark: gant vs cuDNN"
if [[ ${GANT_BENCH:-1} == 0 ]]; then
    say "benchmark: not run (GANT_BENCH=0)"
    summary+=("SKIP  gant_bench_cuda_conv (GANT_BENCH=0)")
else
    run gant_bench_cuda_conv "$out/bench.log" 300 "$bench" --budget "${GANT_BENCH_BUDGET:-150}" --table "$out/conv_table.txt"
fi

section "PyTorch peer of the whole-step benchmark (issue 9): DCGAN and WGAN-GP 64x64 iterations"
# The peer's numbers for the table gant's device step will be compared with; python3 there is
# the one that holds PyTorch. Skipped when no Python with torch is found.
if [[ ${GANT_BENCH:-1} == 0 ]]; then
    say "PyTorch peer: not run (GANT_BENCH=0)"
elif python3 -c 'import torch' >/dev/null 2>&1; then
    run "torch_train_step (cuDNN default)" "$logs/torch_train_step.log" 240 \
        python3 "$here/torch_train_step.py" --device cuda --json "$out/torch_step.json"
    run "torch_train_step (cudnn.benchmark)" "$logs/torch_train_step_benchmark.log" 240 \
        python3 "$here/torch_train_step.py" --device cuda --cudnn-benchmark
else
    say "PyTorch: not importable by python3, peer not timed"
    summary+=("SKIP  torch_train_step (no PyTorch)")
fi

section "ncu: stall reasons of both kernels on two large layers"
ncu=$(command -v ncu || true)
for candidate in "$(dirname "$nvcc")/ncu" /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    [[ -z $ncu && -x $candidate ]] && ncu=$candidate
done
if [[ ${GANT_NCU:-1} != 0 && -n $ncu ]]; then
    : >"$out/ncu.log"
    # config 0 is the two-stage 128x128 kernel; -1 lets the heuristic choose (the pipelined one).
    # GANT_NCU_SPECS: "LAYER PASS CONFIG" entries separated by commas.
    IFS=, read -r -a specs <<<"${GANT_NCU_SPECS:-D64.2 forward 0,D64.2 forward -1,G64.3 forward 0,G64.3 forward -1}"
    for spec in "${specs[@]}"; do
        read -r layer pass config <<<"$spec"
        echo "ncu: $layer $pass, config $config" | tee -a "$out/ncu.log"
        set +e
        timeout 120 "$ncu" --clock-control none -k regex:igemm_kernel --launch-count 1 \
            --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
            --section SchedulerStats --section MemoryWorkloadAnalysis \
            "$bench" --only "$layer" --pass "$pass" --batch 256 --no-sweep --config "$config" >>"$out/ncu.log" 2>&1
        set -e
    done
    grep -E "(igemm_kernel<|ncu: |Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per Thread|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Block Limit (Registers|Shared))" "$out/ncu.log" \
        | head -120 | tee -a "$log" || true
else
    say "ncu: not run (not installed, or GANT_NCU=0)"
fi

section "sass: instruction mix of the pipelined 128x128 kernels (static counts over each whole kernel)"
cuobjdump=$(command -v cuobjdump || true)
[[ -z $cuobjdump && -x "$(dirname "$nvcc")/cuobjdump" ]] && cuobjdump="$(dirname "$nvcc")/cuobjdump"
if [[ -n $cuobjdump && -f $build/libgant_cuda_kernels.a ]]; then
    # One line per kernel of mma_config<128,128,32,64,32,2,3>: its most frequent opcodes.
    "$cuobjdump" -sass "$build/libgant_cuda_kernels.a" 2>/dev/null | awk '
        /Function :/ { name = $3; keep = (name ~ /mma_igemm_kernel/ && name ~ /ILi128ELi128ELi32ELi64ELi32ELi2ELi3E/) ; next }
        keep && /\/\*[0-9a-f]+\*\// {
            line = $0; sub(/^[ \t]*\/\*[0-9a-f]+\*\/[ \t]+/, "", line); sub(/^@!?U?P[0-9T] +/, "", line); split(line, w, /[ .;]/);
            if (w[1] != "") { count[name, w[1]]++; total[name]++ }
        }
        END {
            for (key in count) { split(key, parts, SUBSEP); print total[parts[1]], parts[1], count[key], parts[2] }
        }' | sort -k2,2 -k3,3nr | awk '{ if ($2 != last) { printf "\n%s (%d instructions):", ($2 ~ /fprop/ ? "fprop" : $2 ~ /dgrad/ ? "dgrad" : "wgrad"), $1; last = $2; n = 0 } if (n++ < 14) printf " %s %d", $4, $3 } END { print "" }' | tee -a "$log"
else
    say "cuobjdump: not found, skipped"
fi

section "status"
for line in "${summary[@]}"; do say "$line"; done
say "total $(($(date +%s) - started)) s; logs in $out"
if [[ -f $out/conv_table.txt ]]; then
    say ""
    cat "$out/conv_table.txt" | tee -a "$log"
fi
[[ ${#failures[@]} -eq 0 ]]
