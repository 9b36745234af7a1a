#pragma once
// The implicit-GEMM kernel (gant/cuda/detail/igemm_kernel.cuh) replayed on the CPU: the same
// grid, the same per-thread loaders writing the same shared-memory layouts, the same epilogue
// and split reduction. Only the warp-level WMMA products are replaced by a loop over the
// shared tiles (and the order of additions differs, which exact test data makes irrelevant).
// Shared memory and the workspace start as NaN, so an element no thread writes poisons the
// result just as on the GPU.
#include <cmath>
#include <limits>
#include <vector>

#include "gant/cuda/detail/igemm.hpp"
#include "gant/cuda/detail/plan.hpp"

namespace gant::cuda::testing {

template <class Cfg, class Op>
void emulate_igemm(const typename Op::params& p, const detail::launch_plan& plan) {
    using a_loader = typename Op::template a_loader<Cfg>;
    using b_loader = typename Op::template b_loader<Cfg>;
    constexpr float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> workspace(std::size_t(plan.workspace_floats), nan);
    std::vector<float> as(Cfg::a_stage), bs(Cfg::b_stage), c(std::size_t(Cfg::BM) * Cfg::BN);
    for (int z = 0; z < plan.phases * plan.splits; ++z) {
        const int phase = z / plan.splits, split = z % plan.splits;
        const typename Op::phase_t ph = Op::make_phase(p, phase);
        for (int by = 0; by < plan.grid_y; ++by)
            for (int bx = 0; bx < plan.grid_x; ++bx) {
                const int m0 = by * Cfg::BM, n0 = bx * Cfg::BN;
                if (n0 >= ph.N) continue;
                int kt_begin, kt_end;
                detail::split_range((ph.K + Cfg::BK - 1) / Cfg::BK, plan.splits, split, kt_begin, kt_end);
                std::fill(c.begin(), c.end(), 0.f);
                for (int kt = kt_begin; kt < kt_end; ++kt) {
                    std::fill(as.begin(), as.end(), nan);
                    std::fill(bs.begin(), bs.end(), nan);
                    for (int tid = 0; tid < Cfg::threads; ++tid) {
                        const a_loader la(p, ph, m0, n0, tid);
                        const b_loader lb(p, ph, m0, n0, tid);
                        float ra[a_loader::per], rb[b_loader::per];
                        la.load(kt * Cfg::BK, ra);
                        lb.load(kt * Cfg::BK, rb);
                        la.store(ra, as.data());
                        lb.store(rb, bs.data());
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

/// emulate_igemm for the configuration a plan names.
template <class Op>
void emulate(const typename Op::params& p, const detail::launch_plan& plan) {
    switch (plan.config) {
        case 0: return emulate_igemm<detail::config_128x128, Op>(p, plan);
        case 1: return emulate_igemm<detail::config_128x64, Op>(p, plan);
        case 2: return emulate_igemm<detail::config_64x128, Op>(p, plan);
        case 3: return emulate_igemm<detail::config_64x64, Op>(p, plan);
        case 4: return emulate_igemm<detail::config_32x128, Op>(p, plan);
        case 5: return emulate_igemm<detail::config_16x128, Op>(p, plan);
        case 6: return emulate_igemm<detail::config_128x64_occ2, Op>(p, plan);
        case 7: return emulate_igemm<detail::config_64x128_occ2, Op>(p, plan);
        case 8: return emulate_igemm<detail::config_64x64_occ4, Op>(p, plan);
    }
}
static_assert(detail::config_total == 9, "gant: emulate() lists every configuration of config_table");

}  // namespace gant::cuda::testing
