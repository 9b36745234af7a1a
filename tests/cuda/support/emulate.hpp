#pragma once
// The implicit-GEMM kernels replayed on the CPU: the same grid, the same per-thread loaders
// writing the same shared-memory layouts, the same epilogue and split reduction.
//  - igemm_kernel (two stages, WMMA): the warp-level products are replaced by a loop over the
//    shared tiles.
//  - mma_igemm_kernel (cp.async pipeline, mma.sync): every lane's fragment loads and accumulator
//    stores run as on the GPU (mma_tile.hpp), and the m16n8k8 products are computed from the
//    lanes' fragments as the PTX ISA lays them out, so the warp and fragment arithmetic is
//    checked too.
// The order of additions differs from the tensor cores', which exact test data makes
// irrelevant. Shared memory and the workspace start as NaN, so an element no thread writes
// poisons the result just as on the GPU.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gant/cuda/detail/igemm.hpp"
#include "gant/cuda/detail/mma_tile.hpp"
#include "gant/cuda/detail/plan.hpp"

namespace gant::cuda::testing {

/// d += a * b for one mma.m16n8k8 with TF32 operands, from the 32 lanes' fragments, laid out as
/// the PTX ISA says (mma_tile.hpp repeats the table).
inline void emulate_mma_m16n8k8(float (&d)[32][4], const float (&a)[32][4], const float (&b)[32][2]) {
    float A[16][8], B[8][8];
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane / 4, t = lane % 4;
        A[g][t] = a[lane][0];
        A[g + 8][t] = a[lane][1];
        A[g][t + 4] = a[lane][2];
        A[g + 8][t + 4] = a[lane][3];
        B[t][g] = b[lane][0];
        B[t + 4][g] = b[lane][1];
    }
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane / 4, t = lane % 4;
        const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
        for (int r = 0; r < 4; ++r)
            for (int k = 0; k < 8; ++k) d[lane][r] += A[rows[r]][k] * B[k][cols[r]];
    }
}

/// One block's BM x BN tile of C over slices [kt_begin, kt_end), as the kernel of Cfg computes
/// it, into c (row-major [BM][BN]).
template <class Cfg, class Op>
void emulate_block_product(const typename Op::params& p, const typename Op::phase_t& ph, int m0, int n0,
                           int kt_begin, int kt_end, std::vector<float>& c) {
    using a_loader = typename Op::template a_loader<Cfg>;
    using b_loader = typename Op::template b_loader<Cfg>;
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> as(Cfg::a_stage), bs(Cfg::b_stage);
    if constexpr (!Cfg::pipelined) {
        std::fill(c.begin(), c.end(), 0.f);
        for (int kt = kt_begin; kt < kt_end; ++kt) {
            std::fill(as.begin(), as.end(), nan);
            std::fill(bs.begin(), bs.end(), nan);
            for (int tid = 0; tid < Cfg::threads; ++tid) {
                const a_loader la(p, ph, m0, n0, tid);
                const b_loader lb(p, ph, m0, n0, tid);
                float ra[a_loader::per], rb[b_loader::per];
                detail::load_slice(la, kt * Cfg::BK, ra);
                detail::load_slice(lb, kt * Cfg::BK, rb);
                detail::store_slice(la, ra, as.data());
                detail::store_slice(lb, rb, bs.data());
            }
            for (int ml = 0; ml < Cfg::BM; ++ml)
                for (int jl = 0; jl < Cfg::BN; ++jl) {
                    float acc = c[std::size_t(ml) * Cfg::BN + jl];
                    for (int kl = 0; kl < Cfg::BK; ++kl) {
                        const float b = Op::b_col_major ? bs[std::size_t(jl) * Cfg::ldb_col + kl]
                                                        : bs[std::size_t(kl) * Cfg::ldb_row + jl];
                        acc += as[std::size_t(ml) * Cfg::lda + kl] * b;
                    }
                    c[std::size_t(ml) * Cfg::BN + jl] = acc;
                }
        }
    } else {
        using fragments = detail::warp_fragments<Cfg, Op::b_col_major>;
        constexpr int warps = Cfg::threads / 32, fm = Cfg::frags_m, fn = Cfg::frags_n;
        // The accumulators of product (i, j) of a warp, per lane, as the warp holds them.
        struct lane_accumulators {
            float v[32][4] = {};
        };
        std::vector<lane_accumulators> acc(std::size_t(warps) * fm * fn);
        auto acc_of = [&](int warp, int i, int j) -> float(&)[32][4] {
            return acc[(std::size_t(warp) * fm + i) * fn + j].v;
        };
        for (int kt = kt_begin; kt < kt_end; ++kt) {
            std::fill(as.begin(), as.end(), nan);
            std::fill(bs.begin(), bs.end(), nan);
            for (int tid = 0; tid < Cfg::threads; ++tid) {
                detail::copy_slice_async(a_loader(p, ph, m0, n0, tid), kt * Cfg::BK, as.data());
                detail::copy_slice_async(b_loader(p, ph, m0, n0, tid), kt * Cfg::BK, bs.data());
            }
            for (int warp = 0; warp < warps; ++warp) {
                const int wm = (warp / Cfg::warps_n) * Cfg::WM, wn = (warp % Cfg::warps_n) * Cfg::WN;
                for (int kk = 0; kk < Cfg::BK; kk += 8) {
                    float a[32][fm][4], b[32][fn][2];
                    for (int lane = 0; lane < 32; ++lane) {
                        fragments::load_a(as.data(), wm, kk, lane, a[lane]);
                        fragments::load_b(bs.data(), wn, kk, lane, b[lane]);
                    }
                    for (int i = 0; i < fm; ++i)
                        for (int j = 0; j < fn; ++j) {
                            float fa[32][4], fb[32][2];
                            for (int lane = 0; lane < 32; ++lane) {
                                std::copy(a[lane][i], a[lane][i] + 4, fa[lane]);
                                std::copy(b[lane][j], b[lane][j] + 2, fb[lane]);
                            }
                            emulate_mma_m16n8k8(acc_of(warp, i, j), fa, fb);
                        }
                }
            }
        }
        // The accumulators through the C tile, as the kernel's epilogue reads them.
        std::vector<float> cs(std::size_t(Cfg::BM) * Cfg::ldc, nan);
        for (int warp = 0; warp < warps; ++warp) {
            const int wm = (warp / Cfg::warps_n) * Cfg::WM, wn = (warp % Cfg::warps_n) * Cfg::WN;
            for (int lane = 0; lane < 32; ++lane) {
                float lane_acc[fm][fn][4];
                for (int i = 0; i < fm; ++i)
                    for (int j = 0; j < fn; ++j)
                        for (int r = 0; r < 4; ++r) lane_acc[i][j][r] = acc_of(warp, i, j)[lane][r];
                fragments::store_c(cs.data(), wm, wn, lane, lane_acc);
            }
        }
        for (int ml = 0; ml < Cfg::BM; ++ml)
            for (int jl = 0; jl < Cfg::BN; ++jl)
                c[std::size_t(ml) * Cfg::BN + jl] = cs[std::size_t(ml) * Cfg::ldc + jl];
    }
}

template <class Cfg, class Op>
void emulate_igemm(const typename Op::params& p, const detail::launch_plan& plan) {
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> workspace(std::size_t(plan.workspace_floats), nan);
    std::vector<float> c(std::size_t(Cfg::BM) * Cfg::BN);
    for (int z = 0; z < plan.phases * plan.splits; ++z) {
        const int phase = z / plan.splits, split = z % plan.splits;
        const typename Op::phase_t ph = Op::make_phase(p, phase);
        for (int by = 0; by < plan.grid_y; ++by)
            for (int bx = 0; bx < plan.grid_x; ++bx) {
                const int m0 = by * Cfg::BM, n0 = bx * Cfg::BN;
                if (n0 >= ph.N) continue;
                int kt_begin, kt_end;
                detail::split_range((ph.K + Cfg::BK - 1) / Cfg::BK, plan.splits, split, kt_begin, kt_end);
                emulate_block_product<Cfg, Op>(p, ph, m0, n0, kt_begin, kt_end, c);
                for (int ml = 0; ml < Cfg::BM; ++ml)
                    for (int jl = 0; jl < Cfg::BN; ++jl) {
                        const int m = m0 + ml, j = n0 + jl;
                        if (m >= p.M || j >= ph.N) continue;
                        const float v = c[std::size_t(ml) * Cfg::BN + jl];
                        if (plan.splits == 1)
                            detail::store_output<Op>(p, ph, m, j, v);
                        else
                            workspace[std::size_t(detail::workspace_index(phase, split, plan.splits, p.M,
                                                                          plan.workspace_ld, m, j))] = v;
                    }
            }
    }
    if (plan.splits == 1) return;
    for (int phase = 0; phase < plan.phases; ++phase) {
        const typename Op::phase_t ph = Op::make_phase(p, phase);
        for (int m = 0; m < p.M; ++m)
            for (int j = 0; j < ph.N; ++j)
                detail::reduce_and_store<Op>(p, ph, phase, plan.splits, workspace.data(), plan.workspace_ld, m, j);
    }
}

template <class Op>
struct emulator {
    const typename Op::params& p;
    const detail::launch_plan& plan;
    template <class Cfg>
    void operator()() const { emulate_igemm<Cfg, Op>(p, plan); }
};

/// emulate_igemm for the configuration a plan names.
template <class Op>
void emulate(const typename Op::params& p, const detail::launch_plan& plan) {
    detail::with_config(plan.config, emulator<Op>{p, plan});
}

}  // namespace gant::cuda::testing
