#pragma once
// GANT_HOST_DEVICE marks the small pieces of maths that both backends evaluate: a counter-based
// random block, an activation's derivative, one optimizer update of one element. Written once,
// they compile as plain C++ for the CPU backend and as __host__ __device__ functions when nvcc
// compiles the CUDA backend's kernels, so the two backends cannot drift apart in what they
// compute, and the CPU tests of these functions also test what the GPU runs.
#if defined(__CUDACC__)
#define GANT_HOST_DEVICE __host__ __device__
#else
#define GANT_HOST_DEVICE
#endif
