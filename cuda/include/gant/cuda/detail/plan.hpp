#pragma once
// From a convolution problem to kernel parameters and a launch plan (which tile configuration,
// how many splits of the reduction, the grid, the workspace). Plain host C++: the library's
// entry points (cuda/src/conv.cpp) and the CPU emulation test share it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "gant/cuda/conv.hpp"
#include "gant/cuda/detail/igemm.hpp"

namespace gant::cuda::detail {

inline conv_dims dims_of(const conv2d_problem& p) {
    return {p.batch,    p.in_channels, p.in_height, p.in_width, p.out_channels, p.kernel_h,
            p.kernel_w, p.stride,      p.padding,   p.out_height(), p.out_width()};
}

inline epilogue_params epilogue_of(const conv_epilogue& e) {
    const bool curvature = e.curvature_a && e.curvature_b;
    return {e.bias,           int(e.act),    e.slope,
            e.alpha,          e.beta,        int(e.chain),
            e.chain_output,   e.chain_slope, curvature ? e.curvature_a : nullptr,
            curvature ? e.curvature_b : nullptr};
}

inline fprop_params make_fprop(const conv2d_problem& problem, const float* x, const float* w, float* y,
                               const conv_epilogue& e) {
    fprop_params p{};
    p.d = dims_of(problem);
    p.x = x;
    p.wt = w;
    p.out = y;
    p.ep = epilogue_of(e);
    p.M = p.d.cout;
    p.N = p.d.batch * p.d.ohw();
    p.K = p.d.cin * p.d.khw();
    p.div_khw = fast_divmod(p.d.khw());
    p.div_kw = fast_divmod(p.d.kw);
    p.div_ohw = fast_divmod(p.d.ohw());
    p.div_ow = fast_divmod(p.d.ow);
    return p;
}

inline dgrad_params make_dgrad(const conv2d_problem& problem, const float* dy, const float* w, float* dx,
                               const conv_epilogue& e) {
    dgrad_params p{};
    p.d = dims_of(problem);
    p.dy = dy;
    p.wt = w;
    p.out = dx;
    p.ep = epilogue_of(e);
    p.M = p.d.cin;
    p.phases = p.d.stride * p.d.stride;
    return p;
}

inline wgrad_params make_wgrad(const conv2d_problem& problem, const float* x, const float* dy, float* dw, float alpha,
                               float beta) {
    wgrad_params p{};
    p.d = dims_of(problem);
    p.x = x;
    p.dy = dy;
    p.out = dw;
    p.ep = {nullptr, act_none, 0.f, alpha, beta, act_none, nullptr, 0.f, nullptr, nullptr};
    p.M = p.d.cout;
    p.N = p.d.cin * p.d.khw();
    p.K = p.d.batch * p.d.ohw();
    p.div_ohw = fast_divmod(p.d.ohw());
    p.div_ow = fast_divmod(p.d.ow);
    p.div_khw = fast_divmod(p.d.khw());
    p.div_kw = fast_divmod(p.d.kw);
    return p;
}

/// The GEMM a pass runs: M rows, and over its phases at most n_max columns and k_max of depth.
struct gemm_extent {
    int M = 0, n_max = 0, k_max = 0, phases = 1;
};

inline gemm_extent extent_of(const fprop_params& p) { return {p.M, p.N, p.K, 1}; }
inline gemm_extent extent_of(const wgrad_params& p) { return {p.M, p.N, p.K, 1}; }
inline gemm_extent extent_of(const dgrad_params& p) {
    gemm_extent g{p.M, 0, 0, p.phases};
    for (int z = 0; z < p.phases; ++z) {
        const dgrad_phase ph = dgrad_op::make_phase(p, z);
        g.n_max = std::max(g.n_max, ph.N);
        g.k_max = std::max(g.k_max, ph.K);
    }
    return g;
}

struct launch_plan {
    int config = 0, splits = 1, phases = 1;
    int grid_x = 1, grid_y = 1;    // column tiles, row tiles (grid z = phases * splits)
    int workspace_ld = 0;          // columns of a partial C in the workspace (n_max)
    long long workspace_floats = 0;
    long long blocks() const { return 1LL * grid_x * grid_y * phases * splits; }
};

inline int ceil_div(long long a, long long b) { return int((a + b - 1) / b); }

/// The plan for a given configuration and number of splits (clamped so that no split is empty).
inline launch_plan make_plan(const gemm_extent& g, int config, int splits) {
    const config_info& c = config_table[config];
    launch_plan plan;
    plan.config = config;
    plan.phases = g.phases;
    const int k_tiles = std::max(1, ceil_div(g.k_max, c.bk));
    splits = std::clamp(splits, 1, k_tiles);
    splits = ceil_div(k_tiles, ceil_div(k_tiles, splits));  // every split gets at least one slice
    plan.splits = splits;
    plan.grid_x = std::max(1, ceil_div(g.n_max, c.bn));
    plan.grid_y = std::max(1, ceil_div(g.M, c.bm));
    if (splits > 1) {
        plan.workspace_ld = g.n_max;
        plan.workspace_floats = 1LL * g.phases * splits * g.M * g.n_max;
    }
    return plan;
}

/// What the heuristic knows of the device: multiprocessors, and how many blocks of each
/// configuration fit on one (cudaOccupancyMaxActiveBlocksPerMultiprocessor).
struct device_shape {
    int sms = 132;
    int resident[config_total] = {1, 1, 1, 2, 2, 2, 2, 2, 4, 2, 1, 2, 2, 4, 3, 3};
};

/// The heuristic's estimate, in microseconds, of a plan. A guess to rank plans by: a full
/// H100/H200 SM is taken to do ~0.3e6 TF32 multiply-adds per microsecond with the pipelined
/// 128x128 tile (measured: about 70 TFLOP/s over 132 SMs; less with other tiles, config_info),
/// 8 resident warps to reach about 60% of that, 16 or more 90%; a split costs the workspace's
/// round trip at ~3 TB/s plus a launch. (The rate matters against the split's cost: at 4x the
/// real rate, the planner avoided splits that the benchmark's sweep found 20% faster.)
inline double estimate_us(const gemm_extent& g, const launch_plan& plan, const device_shape& dev) {
    const config_info& c = config_table[plan.config];
    const long long blocks = plan.blocks();
    const int sms = std::max(1, dev.sms);
    const int resident = std::max(1, dev.resident[plan.config]);
    const long long per_wave = 1LL * sms * resident;
    const long long waves = (blocks + per_wave - 1) / per_wave;
    const int on_one_sm = int(std::min<long long>(resident, (blocks + sms - 1) / sms));
    const int warps = on_one_sm * c.threads / 32;
    const double utilisation = warps >= 16 ? 0.9 : warps >= 8 ? 0.6 : 0.35;
    const int k_tiles = std::max(1, ceil_div(g.k_max, c.bk));
    const int slices = ceil_div(k_tiles, plan.splits);
    const double block_fma = double(c.bm) * c.bn * slices * c.bk;
    double us = double(waves) * block_fma * on_one_sm / (0.3e6 * c.efficiency * utilisation);
    if (plan.splits > 1) us += double(plan.splits * 2 + 1) * g.M * g.n_max * g.phases * 4.0 / 3.0e6 + 2.0;
    return us;
}

/// The plan for a kernel_choice: forced fields are kept, the others chosen by estimate_us.
inline launch_plan choose_plan(const gemm_extent& g, const device_shape& dev, const kernel_choice& choice) {
    if (choice.config >= 0 && choice.splits > 0) return make_plan(g, choice.config, choice.splits);
    static constexpr int split_options[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32};
    launch_plan best;
    double best_us = 0;
    bool have = false;
    auto consider = [&](int config, int splits) {
        const launch_plan plan = make_plan(g, config, splits);
        if (choice.splits <= 0 && plan.splits != splits) return;  // clamped: its equal is listed already
        const double us = estimate_us(g, plan, dev);
        if (!have || us < best_us) {
            best = plan;
            best_us = us;
            have = true;
        }
    };
    for (int config = 0; config < config_total; ++config) {
        if (choice.config >= 0 && config != choice.config) continue;
        if (choice.splits > 0)
            consider(config, choice.splits);
        else
            for (int s : split_options) consider(config, s);
    }
    return have ? best : make_plan(g, std::max(choice.config, 0), 1);
}

}  // namespace gant::cuda::detail
