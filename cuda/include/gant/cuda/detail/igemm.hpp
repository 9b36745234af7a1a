#pragma once
// The implicit GEMMs behind gant's CUDA convolutions, written once for two compilers: nvcc
// builds them into the tensor-core kernels (igemm_kernel.cuh), and any C++ compiler builds them
// for tests/cuda/test_cuda_emulation.cpp, which runs the same loaders, tile layouts and
// epilogues thread by thread on the CPU. So the index arithmetic of every kernel is checked on
// machines without a GPU; only the warp-level matrix products and the pipeline stay GPU-only.
//
// Each pass is a GEMM  C[m][j] = sum_k A[m][k] * B[k][j]  whose operands are gathered straight
// from the NCHW tensors (nothing is unfolded in memory):
//
//   forward         M = Cout  N = batch*OH*OW  K = Cin*KH*KW     A = w (as is)   B = im2col(x)
//   backward-data   M = Cin   N = batch*H*W/s^2 K = Cout*ceil(KH/s)*ceil(KW/s)     per phase
//   backward-filter M = Cout  N = Cin*KH*KW    K = batch*OH*OW   A = dy          B = im2col(x)^T
//
// Backward-data is split into stride^2 phases: the input pixels (iy, ix) with the same
// (iy + pad) mod s and (ix + pad) mod s receive contributions from the same subset of kernel
// taps (ky = ry + s*ty), so each phase is a dense GEMM over only the taps that touch it. A
// stride-2 4x4 transposed convolution thus multiplies 4 taps per pixel instead of 16 mostly
// zero ones.
//
// A block computes a BM x BN tile of C over BK-deep slices of the reduction. Its threads load
// their share of the A and B slices into registers (zero where an index falls outside the
// tensor or the padding), round them to TF32 and store them to shared memory; warps then
// multiply the shared tiles. The epilogue writes alpha*acc (+ beta*out) + bias through the
// activation, or, when the reduction is split over several blocks, the raw partial sums to a
// workspace that a second kernel reduces in a fixed order (so results are deterministic).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <mma.h>
#define GANT_HD __host__ __device__ __forceinline__
#else
#define GANT_HD inline
#endif
// nvcc compiles a file once for the host and once per device architecture; only the device
// passes (__CUDA_ARCH__ defined) see the unroll pragma, which host compilers would warn about.
#if defined(__CUDA_ARCH__)
#define GANT_UNROLL _Pragma("unroll")
#else
#define GANT_UNROLL
#endif

namespace gant::cuda::detail {

// ---- arithmetic helpers ---------------------------------------------------------------------

/// Division and remainder by a divisor fixed at launch, as a multiply-high and a shift
/// (Granlund & Montgomery; the form CUTLASS's FastDivmod uses). Exact for 0 <= x < 2^31.
struct fast_divmod {
    int divisor = 1;
    unsigned multiplier = 0;
    unsigned shift = 0;

    fast_divmod() = default;
    GANT_HD explicit fast_divmod(int d) : divisor(d < 1 ? 1 : d) {
        if (divisor > 1) {
            unsigned log2_ceil = 0;
            while ((1u << log2_ceil) < unsigned(divisor)) ++log2_ceil;
            const unsigned p = 31 + log2_ceil;
            multiplier = unsigned(((1ull << p) + unsigned(divisor) - 1) / unsigned(divisor));
            shift = p - 32;
        }
    }

    GANT_HD int div(int x) const {
        if (divisor == 1) return x;
#if defined(__CUDA_ARCH__)
        return int(__umulhi(unsigned(x), multiplier) >> shift);
#else
        return int(unsigned((std::uint64_t(unsigned(x)) * multiplier) >> 32) >> shift);
#endif
    }
    GANT_HD void divmod(int x, int& quotient, int& remainder) const {
        quotient = div(x);
        remainder = x - quotient * divisor;
    }
};

/// v rounded to the nearest TF32 value (10 explicit mantissa bits), ties away from zero: what
/// the tensor cores then multiply exactly. The device uses cvt.rna.tf32.f32; the host the same
/// rounding on the bits.
GANT_HD float round_tf32(float v) {
#if defined(__CUDA_ARCH__)
    return nvcuda::wmma::__float_to_tf32(v);
#else
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x7f800000u) != 0x7f800000u) {  // finite: round the magnitude, keep the sign
        bits += 0x1000u;
        bits &= 0xffffe000u;
    }
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
#endif
}

/// A read-only global load (the read-only data cache on the device).
GANT_HD float load_ro(const float* p) {
#if defined(__CUDA_ARCH__)
    return __ldg(p);
#else
    return *p;
#endif
}

enum activation_code : int { act_none = 0, act_relu = 1, act_leaky_relu = 2, act_tanh = 3 };

/// NaN-propagating, like PyTorch's: a NaN input gives a NaN output.
GANT_HD float apply_activation(float v, int act, float slope) {
    switch (act) {
        case act_relu: return v < 0.f ? 0.f : v;
        case act_leaky_relu: return v < 0.f ? slope * v : v;
#if defined(__CUDA_ARCH__)
        case act_tanh: return tanhf(v);
#else
        case act_tanh: return std::tanh(v);
#endif
        default: return v;
    }
}

/// Copies 4 bytes from global to shared memory asynchronously (cp.async, L1-cached), or writes
/// zero without reading when `ok` is false (the source size is then 0, so `src` may be any valid
/// address). The host version copies at once, for the CPU emulation of the kernels.
GANT_HD void copy_async_4(float* dst, const float* src, bool ok) {
#if defined(__CUDA_ARCH__)
    const unsigned dst_shared = unsigned(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst_shared), "l"(src), "r"(ok ? 4 : 0)
                 : "memory");
#else
    *dst = ok ? *src : 0.f;
#endif
}

// ---- slices through a loader ----------------------------------------------------------------
// Every loader below says, for the BK-deep slice starting at reduction index k0, where each of
// its thread's `per` elements comes from (gather: sink(i, source, in_range)) and where element i
// goes in the shared tile (smem_offset). The kernels move the elements in one of two ways:

/// Through registers: load_slice while the warps multiply, store_slice (rounding to TF32) after.
template <class Loader, int Per>
GANT_HD void load_slice(const Loader& l, int k0, float (&r)[Per]) {
    l.gather(k0, [&](int i, const float* src, bool ok) { r[i] = ok ? load_ro(src) : 0.f; });
}
template <class Loader, int Per>
GANT_HD void store_slice(const Loader& l, const float (&r)[Per], float* tile) {
    GANT_UNROLL for (int i = 0; i < Per; ++i) tile[l.smem_offset(i)] = round_tf32(r[i]);
}

/// Straight into shared memory with cp.async (unrounded: the warps round as they read).
template <class Loader>
GANT_HD void copy_slice_async(const Loader& l, int k0, float* tile) {
    l.gather(k0, [&](int i, const float* src, bool ok) { copy_async_4(tile + l.smem_offset(i), src, ok); });
}

/// The chain-rule factor of the epilogue (conv_epilogue in conv.hpp):
/// phi'(y) * v + phi''(y) * ca * cb, from phi's output y; the curvature pointers are read only
/// where phi'' can be non-zero (tanh).
GANT_HD float apply_chain_rule(float v, int phi, float slope, const float* y_at, const float* a_at,
                               const float* b_at) {
    const float y = load_ro(y_at);
    switch (phi) {
        case act_relu: return (y > 0.f ? 1.f : 0.f) * v;
        case act_leaky_relu: return (y > 0.f ? 1.f : slope) * v;
        case act_tanh: {
            const float first = 1.f - y * y;
            float out = first * v;
            if (a_at) out += -2.f * y * first * load_ro(a_at) * load_ro(b_at);
            return out;
        }
        default: return v;
    }
}

// ---- problem descriptions -------------------------------------------------------------------

/// A conv2d over a batch with its output size resolved (the conv whose passes run; a transposed
/// convolution arrives here as the conv it is the adjoint of).
struct conv_dims {
    int batch, cin, h, w, cout, kh, kw, stride, pad, oh, ow;
    GANT_HD int hw() const { return h * w; }
    GANT_HD int ohw() const { return oh * ow; }
    GANT_HD int khw() const { return kh * kw; }
};

struct epilogue_params {
    const float* bias;  // [M] or null
    int act;            // activation_code
    float slope, alpha, beta;
    int chain;                  // activation_code of the chain-rule factor (act_none: none)
    const float* chain_output;  // that activation's output y, laid out as out
    float chain_slope;
    const float* curvature_a;   // null, or both set: + phi''(y) * a * b
    const float* curvature_b;
};

/// The GEMM of a pass without phases (forward, backward-filter): its N and K.
struct plain_phase {
    int N, K;
};

/// One stride phase of backward-data: the dx pixels iy = iy0 + u*s, ix = ix0 + v*s
/// (u < nh, v < nw) and the taps ky = ry + s*ty, kx = rx + s*tx (ty < tkh, tx < tkw) that reach
/// them; tap (ty, tx) of pixel (u, v) reads dy at (qy0 + u - ty, qx0 + v - tx).
struct dgrad_phase {
    int N, K;  // batch*nh*nw, cout*tkh*tkw
    int ry, rx, tkw, nw, iy0, ix0, qy0, qx0;
    fast_divmod div_taps, div_tkw, div_pixels, div_nw;
};

// ---- tile configurations --------------------------------------------------------------------

/// What the loaders and the epilogue (shared by every tile configuration) need of a tile: the A
/// loaders and backward-filter's B loader give each thread one k and whole rows; the
/// forward/backward-data B loaders give each lane whole columns and each warp whole rows; the
/// epilogue gives every thread the same share of the C tile.
constexpr bool loaders_fit(int BM, int BN, int BK, int threads) {
    return threads % BK == 0 && BM % (threads / BK) == 0 && BN % (threads / BK) == 0 && BN % 32 == 0 &&
           BK % (threads / 32) == 0 && (BM * BN) % threads == 0;
}

/// A block computes BM x BN of C over BK-deep slices; each warp a WM x WN part of it as
/// (WM/16) x (WN/16) WMMA m16n16k8 fragments. Shared-memory rows are padded by 4 floats so that
/// the fragment loads and the loaders' stores hit distinct banks, and every fragment starts on
/// a 32-byte boundary as WMMA requires.
template <int BM_, int BN_, int BK_, int WM_, int WN_, int MinBlocks_>
struct tile_config {
    static constexpr bool pipelined = false;  // igemm_kernel: two stages staged through registers
    static constexpr int BM = BM_, BN = BN_, BK = BK_, WM = WM_, WN = WN_;
    static constexpr int warps_m = BM / WM, warps_n = BN / WN;
    static constexpr int threads = warps_m * warps_n * 32;
    static constexpr int min_blocks = MinBlocks_;
    static constexpr int frags_m = WM / 16, frags_n = WN / 16;
    static constexpr int pad = 4;
    static constexpr int lda = BK + pad;      // A slice, row-major [BM][lda]
    static constexpr int ldb_row = BN + pad;  // B slice, row-major [BK][ldb_row]
    static constexpr int ldb_col = BK + pad;  // B slice, column-major [BN][ldb_col]
    static constexpr int ldc = BN + pad;      // C tile, row-major [BM][ldc]
    static constexpr int round8(int v) { return (v + 7) / 8 * 8; }
    static constexpr int max2(int a, int b) { return a > b ? a : b; }
    static constexpr int a_stage = round8(BM * lda);
    static constexpr int b_stage = round8(max2(BK * ldb_row, BN * ldb_col));
    static constexpr int smem_floats = max2(2 * (a_stage + b_stage), BM * ldc);
    static constexpr std::size_t smem_bytes = std::size_t(smem_floats) * sizeof(float);

    static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 16 == 0 && BK % 8 == 0,
                  "gant: a tile is whole warps of whole 16x16x8 fragments");
    static_assert(loaders_fit(BM, BN, BK, threads), "gant: the loaders and epilogue need whole shares (loaders_fit)");
};

/// The tiles of the pipelined kernel (mma_kernel.cuh, mma_tile.hpp): whole m16n8k8 products per
/// warp, `Stages` slices in flight in shared memory, B rows padded by 8 floats (see mma_tile.hpp).
template <int BM_, int BN_, int BK_, int WM_, int WN_, int MinBlocks_, int Stages_>
struct mma_config {
    static constexpr bool pipelined = true;  // selects mma_igemm_kernel over igemm_kernel
    static constexpr int BM = BM_, BN = BN_, BK = BK_, WM = WM_, WN = WN_;
    static constexpr int warps_m = BM / WM, warps_n = BN / WN;
    static constexpr int threads = warps_m * warps_n * 32;
    static constexpr int min_blocks = MinBlocks_;
    static constexpr int stages = Stages_;
    static constexpr int frags_m = WM / 16, frags_n = WN / 8;
    static constexpr int lda = BK + 4;      // A slice, row-major [BM][lda]
    static constexpr int ldb_row = BN + 8;  // B slice, row-major [BK][ldb_row]
    static constexpr int ldb_col = BK + 4;  // B slice, column-major [BN][ldb_col]
    static constexpr int ldc = BN + 4;      // C tile, row-major [BM][ldc] (overlays the stages)
    static constexpr int round4(int v) { return (v + 3) / 4 * 4; }
    static constexpr int max2(int a, int b) { return a > b ? a : b; }
    static constexpr int a_stage = round4(BM * lda);
    static constexpr int b_stage = round4(max2(BK * ldb_row, BN * ldb_col));
    static constexpr int smem_floats = max2(stages * (a_stage + b_stage), BM * ldc);
    static constexpr std::size_t smem_bytes = std::size_t(smem_floats) * sizeof(float);

    static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 8 == 0 && BK % 8 == 0,
                  "gant: a tile is whole warps of whole m16n8k8 products");
    static_assert(stages >= 2, "gant: the pipeline needs at least two stages");
    static_assert(loaders_fit(BM, BN, BK, threads), "gant: the loaders and epilogue need whole shares (loaders_fit)");
};

// The configurations gant compiles. The order is the index that kernel_choice::config uses;
// config_types lists them for the launcher (igemm_launch.cuh) and the CPU emulation, and
// config_table describes them for the planner, in the same order.
//
// Two-stage register-staged kernels (igemm_kernel, WMMA). MinBlocks caps registers: the first
// six let ptxas use what it likes (about 170-255 registers, so 8 warps per SM); the /r128 three
// are the same tiles capped to 128 registers (16 warps per SM, at the price of some spills).
using config_128x128 = tile_config<128, 128, 32, 64, 32, 1>;
using config_128x64 = tile_config<128, 64, 32, 32, 32, 1>;
using config_64x128 = tile_config<64, 128, 32, 32, 32, 1>;
using config_64x64 = tile_config<64, 64, 32, 32, 32, 2>;
using config_32x128 = tile_config<32, 128, 32, 32, 32, 2>;
using config_16x128 = tile_config<16, 128, 32, 16, 32, 2>;
using config_128x64_occ2 = tile_config<128, 64, 32, 32, 32, 2>;
using config_64x128_occ2 = tile_config<64, 128, 32, 32, 32, 2>;
using config_64x64_occ4 = tile_config<64, 64, 32, 32, 32, 4>;
// Pipelined kernels (mma_igemm_kernel: cp.async, mma.sync). Without registers holding loads in
// flight they fit in 128 or fewer registers, so MinBlocks is what the shared memory allows on
// an H100 (228 KB per SM): two 110 KB blocks of the 128x128 tile with 3 stages, and so on.
using mma_128x128_s3 = mma_config<128, 128, 32, 64, 32, 2, 3>;
using mma_128x128_s4 = mma_config<128, 128, 32, 64, 32, 1, 4>;
using mma_128x64_s3 = mma_config<128, 64, 32, 32, 32, 2, 3>;
using mma_64x128_s3 = mma_config<64, 128, 32, 32, 32, 2, 3>;
using mma_64x64_s3 = mma_config<64, 64, 32, 32, 32, 4, 3>;
using mma_32x128_s3 = mma_config<32, 128, 32, 32, 32, 3, 3>;
using mma_16x128_s3 = mma_config<16, 128, 32, 16, 32, 3, 3>;

template <class... Configs>
struct config_list {
    static constexpr int size = int(sizeof...(Configs));
};
using config_types =
    config_list<config_128x128, config_128x64, config_64x128, config_64x64, config_32x128, config_16x128,
                config_128x64_occ2, config_64x128_occ2, config_64x64_occ4, mma_128x128_s3, mma_128x128_s4,
                mma_128x64_s3, mma_64x128_s3, mma_64x64_s3, mma_32x128_s3, mma_16x128_s3>;

/// Calls f.template operator()<Cfg>() for the configuration with index `config`; false if none.
template <class F, class First, class... Rest>
bool with_config_impl(int config, F&& f, config_list<First, Rest...>*) {
    if (config == 0) {
        f.template operator()<First>();
        return true;
    }
    if constexpr (sizeof...(Rest) > 0)
        return with_config_impl(config - 1, f, static_cast<config_list<Rest...>*>(nullptr));
    else
        return false;
}
template <class F>
bool with_config(int config, F&& f) {
    return config >= 0 && with_config_impl(config, f, static_cast<config_types*>(nullptr));
}

struct config_info {
    const char* name;
    int bm, bn, bk, threads;
    bool pipelined;
    float efficiency;  // the heuristic's guess at the share of peak a full SM reaches
};

template <class Cfg>
constexpr config_info info_of(const char* name, float efficiency) {
    return {name, Cfg::BM, Cfg::BN, Cfg::BK, Cfg::threads, Cfg::pipelined, efficiency};
}

// Efficiencies are relative to the pipelined 128x128 tile with 3 stages, from the sweeps of
// gant_bench_cuda_conv on an H200 (docs/cuda.md): e.g. the same work took 249 us on it and
// 308 us on the pipelined 128x64 tile; the two-stage kernel reached about two thirds of the
// pipelined one's throughput.
inline constexpr config_info config_table[] = {
    info_of<config_128x128>("128x128x32", 0.67f), info_of<config_128x64>("128x64x32", 0.60f),
    info_of<config_64x128>("64x128x32", 0.60f),   info_of<config_64x64>("64x64x32", 0.53f),
    info_of<config_32x128>("32x128x32", 0.47f),   info_of<config_16x128>("16x128x32", 0.37f),
    info_of<config_128x64_occ2>("128x64x32/r128", 0.53f), info_of<config_64x128_occ2>("64x128x32/r128", 0.53f),
    info_of<config_64x64_occ4>("64x64x32/r128", 0.47f),
    info_of<mma_128x128_s3>("mma128x128x32/s3", 1.00f), info_of<mma_128x128_s4>("mma128x128x32/s4", 0.93f),
    info_of<mma_128x64_s3>("mma128x64x32/s3", 0.80f),   info_of<mma_64x128_s3>("mma64x128x32/s3", 0.85f),
    info_of<mma_64x64_s3>("mma64x64x32/s3", 0.70f),     info_of<mma_32x128_s3>("mma32x128x32/s3", 0.60f),
    info_of<mma_16x128_s3>("mma16x128x32/s3", 0.50f),
};
inline constexpr int config_total = int(sizeof(config_table) / sizeof(config_table[0]));
static_assert(config_total == config_types::size, "gant: config_table describes every configuration of config_types");

// ---- the forward pass -----------------------------------------------------------------------

struct fprop_params {
    conv_dims d;
    const float* x;   // [batch, cin, h, w]
    const float* wt;  // [cout, cin, kh, kw] = A [M][K]
    float* out;       // [batch, cout, oh, ow]
    epilogue_params ep;
    int M, N, K;
    fast_divmod div_khw, div_kw, div_ohw, div_ow;
};

struct fprop_op {
    using params = fprop_params;
    using phase_t = plain_phase;
    static constexpr bool b_col_major = false;
    static constexpr const char* name = "conv2d forward";

    GANT_HD static phase_t make_phase(const params& p, int) { return {p.N, p.K}; }

    /// C[m][j] lands at y[n][m][pixel] for j = n*OH*OW + pixel.
    GANT_HD static int out_offset(const params& p, const phase_t&, int m, int j) {
        int n, pixel;
        p.div_ohw.divmod(j, n, pixel);
        return (n * p.M + m) * p.d.ohw() + pixel;
    }

    /// A = w [M][K], contiguous along K: consecutive threads take consecutive k. Each thread
    /// keeps one k (threads is a multiple of BK) and takes every step-th row.
    template <class Cfg>
    struct a_loader {
        static constexpr int step = Cfg::threads / Cfg::BK;
        static constexpr int per = Cfg::BM / step;
        const float* w;
        int M, K, m0, kl, row0;

        GANT_HD a_loader(const params& p, const phase_t&, int m0_, int, int tid)
            : w(p.wt), M(p.M), K(p.K), m0(m0_), kl(tid % Cfg::BK), row0(tid / Cfg::BK) {}

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            const int k = k0 + kl;
            const bool k_ok = k < K;
            GANT_UNROLL for (int i = 0; i < per; ++i) {
                const int m = m0 + row0 + i * step;
                const bool ok = k_ok && m < M;
                sink(i, ok ? w + m * K + k : w, ok);
            }
        }
        GANT_HD int smem_offset(int i) const { return (row0 + i * step) * Cfg::lda + kl; }
    };

    /// B = im2col(x) [K][N]. A warp's lanes take 32 consecutive columns j (samples and output
    /// pixels) of one row k = (ci, ky, kx), so that loads and shared stores are consecutive.
    /// Each thread takes `cols` columns 32 apart and `rows` rows: it decomposes each row once
    /// and each column once (in the constructor), and an element costs an add and the bounds.
    template <class Cfg>
    struct b_loader {
        static constexpr int cols = Cfg::BN / 32;
        static constexpr int row_step = Cfg::threads / 32;
        static constexpr int rows = Cfg::BK / row_step;
        static constexpr int per = rows * cols;
        static_assert(Cfg::BN % 32 == 0 && Cfg::BK % row_step == 0, "gant: whole warps of columns, whole rows");
        const float* x;
        int K, H, W, HW, lane, row0;
        int iy0[cols], ix0[cols], column_base[cols];  // per column: the receptive field's corner
        fast_divmod div_khw, div_kw;

        GANT_HD b_loader(const params& p, const phase_t&, int, int n0, int tid)
            : x(p.x), K(p.K), H(p.d.h), W(p.d.w), HW(p.d.hw()), lane(tid % 32), row0(tid / 32), div_khw(p.div_khw),
              div_kw(p.div_kw) {
            GANT_UNROLL for (int c = 0; c < cols; ++c) {
                const int j = n0 + lane + 32 * c;
                iy0[c] = ix0[c] = -(1 << 30);  // outside every image: a column past N loads zeros
                column_base[c] = 0;
                if (j < p.N) {
                    int n, pixel, oy, ox;
                    p.div_ohw.divmod(j, n, pixel);
                    p.div_ow.divmod(pixel, oy, ox);
                    iy0[c] = oy * p.d.stride - p.d.pad;
                    ix0[c] = ox * p.d.stride - p.d.pad;
                    column_base[c] = n * p.d.cin * HW + iy0[c] * W + ix0[c];
                }
            }
        }

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            GANT_UNROLL for (int r = 0; r < rows; ++r) {
                const int k = k0 + row0 + r * row_step;
                int ci, tap, ky, kx;
                div_khw.divmod(k, ci, tap);
                div_kw.divmod(tap, ky, kx);
                const bool k_ok = k < K;
                const int row_offset = ci * HW + ky * W + kx;
                GANT_UNROLL for (int c = 0; c < cols; ++c) {
                    const bool ok = k_ok && unsigned(iy0[c] + ky) < unsigned(H) && unsigned(ix0[c] + kx) < unsigned(W);
                    sink(r * cols + c, ok ? x + (column_base[c] + row_offset) : x, ok);
                }
            }
        }
        GANT_HD int smem_offset(int i) const {
            return (row0 + (i / cols) * row_step) * Cfg::ldb_row + lane + 32 * (i % cols);
        }
    };
};

// ---- the backward-data pass (and conv_transpose2d's forward) --------------------------------

struct dgrad_params {
    conv_dims d;
    const float* dy;  // [batch, cout, oh, ow]
    const float* wt;  // [cout, cin, kh, kw]
    float* out;       // dx [batch, cin, h, w]
    epilogue_params ep;
    int M;            // cin
    int phases;       // stride^2
};

struct dgrad_op {
    using params = dgrad_params;
    using phase_t = dgrad_phase;
    static constexpr bool b_col_major = false;
    static constexpr const char* name = "conv2d backward-data";

    GANT_HD static phase_t make_phase(const params& p, int phase) {
        const conv_dims& d = p.d;
        const int s = d.stride;
        phase_t ph{};
        ph.ry = phase / s;
        ph.rx = phase % s;
        const int tkh = ph.ry < d.kh ? (d.kh - ph.ry + s - 1) / s : 0;
        ph.tkw = ph.rx < d.kw ? (d.kw - ph.rx + s - 1) / s : 0;
        ph.iy0 = ((ph.ry - d.pad) % s + s) % s;  // iy = ry - pad (mod s)
        ph.ix0 = ((ph.rx - d.pad) % s + s) % s;
        const int nh = ph.iy0 < d.h ? (d.h - 1 - ph.iy0) / s + 1 : 0;
        ph.nw = ph.ix0 < d.w ? (d.w - 1 - ph.ix0) / s + 1 : 0;
        ph.qy0 = (ph.iy0 + d.pad - ph.ry) / s;  // exact: iy0 + pad - ry = 0 (mod s), and >= 0
        ph.qx0 = (ph.ix0 + d.pad - ph.rx) / s;
        ph.N = d.batch * nh * ph.nw;
        ph.K = d.cout * tkh * ph.tkw;
        ph.div_taps = fast_divmod(tkh * ph.tkw);
        ph.div_tkw = fast_divmod(ph.tkw);
        ph.div_pixels = fast_divmod(nh * ph.nw);
        ph.div_nw = fast_divmod(ph.nw);
        return ph;
    }

    /// C[m][j] of a phase lands at dx[n][m][iy0 + u*s][ix0 + v*s] for j = (n*nh + u)*nw + v.
    GANT_HD static int out_offset(const params& p, const phase_t& ph, int m, int j) {
        int n, pixel, u, v;
        ph.div_pixels.divmod(j, n, pixel);
        ph.div_nw.divmod(pixel, u, v);
        return (n * p.M + m) * p.d.hw() + (ph.iy0 + u * p.d.stride) * p.d.w + ph.ix0 + v * p.d.stride;
    }

    /// A[m = ci][k = (co, ty, tx)] = w[co][ci][ry + s*ty][rx + s*tx]: a gather from the small,
    /// cache-resident weight. Each thread keeps one k (decomposed once per slice) and takes
    /// every step-th row.
    template <class Cfg>
    struct a_loader {
        static constexpr int step = Cfg::threads / Cfg::BK;
        static constexpr int per = Cfg::BM / step;
        const float* w;
        int M, K, m0, kl, row0, cin, khw, kw, s, ry, rx;
        fast_divmod div_taps, div_tkw;

        GANT_HD a_loader(const params& p, const phase_t& ph, int m0_, int, int tid)
            : w(p.wt), M(p.M), K(ph.K), m0(m0_), kl(tid % Cfg::BK), row0(tid / Cfg::BK), cin(p.d.cin),
              khw(p.d.khw()), kw(p.d.kw), s(p.d.stride), ry(ph.ry), rx(ph.rx), div_taps(ph.div_taps),
              div_tkw(ph.div_tkw) {}

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            const int k = k0 + kl;
            const bool k_ok = k < K;
            int co, tap, ty, tx;
            div_taps.divmod(k, co, tap);
            div_tkw.divmod(tap, ty, tx);
            const int k_offset = co * cin * khw + (ry + s * ty) * kw + rx + s * tx;
            GANT_UNROLL for (int i = 0; i < per; ++i) {
                const int m = m0 + row0 + i * step;
                const bool ok = k_ok && m < M;
                sink(i, ok ? w + (k_offset + m * khw) : w, ok);
            }
        }
        GANT_HD int smem_offset(int i) const { return (row0 + i * step) * Cfg::lda + kl; }
    };

    /// B[k = (co, ty, tx)][j = (n, u, v)] = dy[n][co][qy0 + u - ty][qx0 + v - tx] (0 outside dy).
    /// The same thread layout as the forward pass's B: lanes take consecutive columns, each
    /// thread `cols` columns and `rows` rows, each decomposed once.
    template <class Cfg>
    struct b_loader {
        static constexpr int cols = Cfg::BN / 32;
        static constexpr int row_step = Cfg::threads / 32;
        static constexpr int rows = Cfg::BK / row_step;
        static constexpr int per = rows * cols;
        static_assert(Cfg::BN % 32 == 0 && Cfg::BK % row_step == 0, "gant: whole warps of columns, whole rows");
        const float* dy;
        int K, OH, OW, OHW, lane, row0;
        int qy[cols], qx[cols], column_base[cols];  // per column: dy's pixel for tap (0, 0)
        fast_divmod div_taps, div_tkw;

        GANT_HD b_loader(const params& p, const phase_t& ph, int, int n0, int tid)
            : dy(p.dy), K(ph.K), OH(p.d.oh), OW(p.d.ow), OHW(p.d.ohw()), lane(tid % 32), row0(tid / 32),
              div_taps(ph.div_taps), div_tkw(ph.div_tkw) {
            GANT_UNROLL for (int c = 0; c < cols; ++c) {
                const int j = n0 + lane + 32 * c;
                qy[c] = qx[c] = -(1 << 30);  // outside dy for every tap: a column past N loads zeros
                column_base[c] = 0;
                if (j < ph.N) {
                    int n, pixel, u, v;
                    ph.div_pixels.divmod(j, n, pixel);
                    ph.div_nw.divmod(pixel, u, v);
                    qy[c] = ph.qy0 + u;
                    qx[c] = ph.qx0 + v;
                    column_base[c] = n * p.d.cout * OHW + qy[c] * OW + qx[c];
                }
            }
        }

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            GANT_UNROLL for (int r = 0; r < rows; ++r) {
                const int k = k0 + row0 + r * row_step;
                int co, tap, ty, tx;
                div_taps.divmod(k, co, tap);
                div_tkw.divmod(tap, ty, tx);
                const bool k_ok = k < K;
                const int row_offset = co * OHW - ty * OW - tx;
                GANT_UNROLL for (int c = 0; c < cols; ++c) {
                    const bool ok = k_ok && unsigned(qy[c] - ty) < unsigned(OH) && unsigned(qx[c] - tx) < unsigned(OW);
                    sink(r * cols + c, ok ? dy + (column_base[c] + row_offset) : dy, ok);
                }
            }
        }
        GANT_HD int smem_offset(int i) const {
            return (row0 + (i / cols) * row_step) * Cfg::ldb_row + lane + 32 * (i % cols);
        }
    };
};

// ---- the backward-filter pass ---------------------------------------------------------------

struct wgrad_params {
    conv_dims d;
    const float* x;   // [batch, cin, h, w]
    const float* dy;  // [batch, cout, oh, ow]
    float* out;       // dw [cout, cin, kh, kw] = C [M][N]
    epilogue_params ep;
    int M, N, K;      // cout, cin*kh*kw, batch*oh*ow
    fast_divmod div_ohw, div_ow, div_khw, div_kw;
};

struct wgrad_op {
    using params = wgrad_params;
    using phase_t = plain_phase;
    static constexpr bool b_col_major = true;
    static constexpr const char* name = "conv2d backward-filter";

    GANT_HD static phase_t make_phase(const params& p, int) { return {p.N, p.K}; }
    GANT_HD static int out_offset(const params& p, const phase_t&, int m, int j) { return m * p.N + j; }

    /// A[m = co][k = (n, pixel)] = dy[n][co][pixel]: consecutive threads take consecutive k
    /// (pixels of one sample are contiguous), each thread a column of rows m.
    template <class Cfg>
    struct a_loader {
        static constexpr int step = Cfg::threads / Cfg::BK;
        static constexpr int per = Cfg::BM / step;
        const float* dy;
        int M, K, m0, kl, row0, cout, ohw;
        fast_divmod div_ohw;

        GANT_HD a_loader(const params& p, const phase_t&, int m0_, int, int tid)
            : dy(p.dy), M(p.M), K(p.K), m0(m0_), kl(tid % Cfg::BK), row0(tid / Cfg::BK), cout(p.d.cout),
              ohw(p.d.ohw()), div_ohw(p.div_ohw) {}

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            const int k = k0 + kl;
            const bool k_ok = k < K;
            int n = 0, pixel = 0;
            if (k_ok) div_ohw.divmod(k, n, pixel);
            GANT_UNROLL for (int i = 0; i < per; ++i) {
                const int m = m0 + row0 + i * step;
                const bool ok = k_ok && m < M;
                sink(i, ok ? dy + (n * cout + m) * ohw + pixel : dy, ok);
            }
        }
        GANT_HD int smem_offset(int i) const { return (row0 + i * step) * Cfg::lda + kl; }
    };

    /// B[k = (n, oy, ox)][j = (ci, ky, kx)] = x[n][ci][oy*s - pad + ky][ox*s - pad + kx], stored
    /// column-major so that consecutive threads (consecutive k) write consecutive words. Each
    /// thread keeps one k per slice and a run of `per` consecutive columns, whose first one it
    /// decomposes once (the columns are the same every slice) and then walks tap by tap.
    template <class Cfg>
    struct b_loader {
        static constexpr int step = Cfg::threads / Cfg::BK;
        static constexpr int per = Cfg::BN / step;
        const float* x;
        int K, kl, col0, H, W, HW, cin, stride, pad, kh, kw;
        int columns_left;                // columns of this thread's run that are < N
        int ky0, kx0, column_offset0;    // the run's first column: its tap, and ci*HW + ky*W + kx
        fast_divmod div_ohw, div_ow;

        GANT_HD b_loader(const params& p, const phase_t&, int, int n0, int tid)
            : x(p.x), K(p.K), kl(tid % Cfg::BK), col0(tid / Cfg::BK), H(p.d.h), W(p.d.w), HW(p.d.hw()),
              cin(p.d.cin), stride(p.d.stride), pad(p.d.pad), kh(p.d.kh), kw(p.d.kw), columns_left(0), ky0(0),
              kx0(0), column_offset0(0), div_ohw(p.div_ohw), div_ow(p.div_ow) {
            const int first = n0 + col0 * per;
            columns_left = p.N - first;
            if (columns_left > 0) {
                int ci, tap;
                p.div_khw.divmod(first, ci, tap);
                p.div_kw.divmod(tap, ky0, kx0);
                column_offset0 = ci * HW + ky0 * W + kx0;
            }
        }

        template <class Sink>
        GANT_HD void gather(int k0, Sink&& sink) const {
            const int k = k0 + kl;
            const bool k_ok = k < K;
            int n = 0, pixel = 0, oy = 0, ox = 0;
            if (k_ok) {
                div_ohw.divmod(k, n, pixel);
                div_ow.divmod(pixel, oy, ox);
            }
            const int iy0 = oy * stride - pad, ix0 = ox * stride - pad;
            const int row_base = n * cin * HW + iy0 * W + ix0;
            int ky = ky0, kx = kx0, column_offset = column_offset0;
            GANT_UNROLL for (int i = 0; i < per; ++i) {
                const bool ok = k_ok && i < columns_left && unsigned(iy0 + ky) < unsigned(H) &&
                                unsigned(ix0 + kx) < unsigned(W);
                sink(i, ok ? x + (row_base + column_offset) : x, ok);
                // The next column: the next tap, carrying into the next row and channel.
                ++kx;
                ++column_offset;
                if (kx == kw) {
                    kx = 0;
                    ++ky;
                    column_offset += W - kw;
                    if (ky == kh) {
                        ky = 0;
                        column_offset += HW - kh * W;
                    }
                }
            }
        }
        GANT_HD int smem_offset(int i) const { return (col0 * per + i) * Cfg::ldb_col + kl; }
    };
};

// ---- epilogue and split reduction -----------------------------------------------------------

/// Writes C[m][j] of a phase to its place in the output: act(alpha*acc + beta*out + bias[m]).
template <class Op>
GANT_HD void store_output(const typename Op::params& p, const typename Op::phase_t& ph, int m, int j, float acc) {
    const int offset = Op::out_offset(p, ph, m, j);
    float v = p.ep.alpha * acc;
    if (p.ep.beta != 0.f) v += p.ep.beta * p.out[offset];
    if (p.ep.bias) v += load_ro(p.ep.bias + m);
    v = apply_activation(v, p.ep.act, p.ep.slope);
    if (p.ep.chain != act_none)
        v = apply_chain_rule(v, p.ep.chain, p.ep.chain_slope, p.ep.chain_output + offset,
                             p.ep.curvature_a ? p.ep.curvature_a + offset : nullptr,
                             p.ep.curvature_b ? p.ep.curvature_b + offset : nullptr);
    p.out[offset] = v;
}

/// Where split `split` of the reduction keeps its partial C[m][j] of a phase.
GANT_HD long long workspace_index(int phase, int split, int splits, int M, int ld, int m, int j) {
    return ((static_cast<long long>(phase) * splits + split) * M + m) * ld + j;
}

/// The partial sums of C[m][j] added in split order, then stored through the epilogue.
template <class Op>
GANT_HD void reduce_and_store(const typename Op::params& p, const typename Op::phase_t& ph, int phase, int splits,
                              const float* workspace, int ld, int m, int j) {
    float acc = 0.f;
    for (int s = 0; s < splits; ++s) acc += workspace[workspace_index(phase, s, splits, p.M, ld, m, j)];
    store_output<Op>(p, ph, m, j, acc);
}

/// The reduction slices [begin, end) that split `split` of `splits` takes of `tiles` slices.
GANT_HD void split_range(int tiles, int splits, int split, int& begin, int& end) {
    const int per = (tiles + splits - 1) / splits;
    begin = split * per < tiles ? split * per : tiles;
    end = begin + per < tiles ? begin + per : tiles;
}

}  // namespace gant::cuda::detail
