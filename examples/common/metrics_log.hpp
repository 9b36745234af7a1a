#pragma once
// metrics.csv: one row per logging interval (--log-every iterations). Losses and scores are the
// means over the interval's iterations (one iteration's values are noise); the weight norms are
// those at the interval's end. A value that does not exist for the family (the Wasserstein
// estimate of a non-Wasserstein loss) is an empty cell, which CSV readers take as missing.
//
//   step            generator iterations so far (the row's last iteration)
//   seconds         training wall-clock seconds so far (resumed runs included; no loading, no output writing)
//   images          real images drawn from the dataset so far
//   critic_loss     the critic's objective, loss + penalty, at its last step of each iteration
//   generator_loss  the generator's loss
//   wasserstein_estimate  E D(real) - E D(fake) (Wasserstein losses only)
//   penalty         the Lipschitz penalty's value (0 without one)
//   input_grad_norm mean ||grad_x D|| where the penalty measures it (0 without a penalty)
//   mean_real_score, mean_fake_score   the critic's mean raw scores
//   critic_weight_norm, generator_weight_norm   L2 norms of all parameters
//
// The rows travel in the checkpoint, so a resumed run's metrics.csv continues the first one's.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gant/io/atomic_file.hpp"
#include "gant/train/checkpoint.hpp"
#include "gant/train/step_stats.hpp"

namespace gant::examples {

class metrics_log {
public:
    static constexpr std::array<const char*, 12> columns{
        "step",    "seconds",         "images",          "critic_loss",     "generator_loss",     "wasserstein_estimate",
        "penalty", "input_grad_norm", "mean_real_score", "mean_fake_score", "critic_weight_norm", "generator_weight_norm"};
    using row = std::array<double, columns.size()>;

    /// Adds one iteration's statistics to the open interval.
    void add(const step_stats& s) {
        const double v[] = {s.critic_loss,     s.generator_loss,  s.wasserstein_estimate, s.penalty,
                            s.input_grad_norm, s.mean_real_score, s.mean_fake_score};
        for (std::size_t i = 0; i < std::size(v); ++i) sums_[i] += v[i];
        last_ = s;
        ++count_;
    }

    bool interval_open() const { return count_ > 0; }

    /// Closes the open interval as a row; returns it.
    const row& close(std::size_t step, double seconds, std::uint64_t images) {
        row r{};
        r[0] = double(step);
        r[1] = seconds;
        r[2] = double(images);
        for (std::size_t i = 0; i < sums_.size(); ++i) r[3 + i] = count_ ? sums_[i] / double(count_) : 0.0;
        r[10] = last_.critic_weight_norm;
        r[11] = last_.generator_weight_norm;
        rows_.push_back(r);
        sums_.fill(0);
        count_ = 0;
        return rows_.back();
    }

    const std::vector<row>& rows() const { return rows_; }

    std::string csv() const {
        std::string s;
        for (std::size_t c = 0; c < columns.size(); ++c) s += std::string(c ? "," : "") + columns[c];
        s += '\n';
        char buf[40];
        for (const row& r : rows_) {
            for (std::size_t c = 0; c < r.size(); ++c) {
                if (c) s += ',';
                if (!std::isfinite(r[c])) continue;
                if (c == 0 || c == 2) std::snprintf(buf, sizeof buf, "%.0f", r[c]);
                else if (c == 1) std::snprintf(buf, sizeof buf, "%.3f", r[c]);
                else std::snprintf(buf, sizeof buf, "%.7g", r[c]);
                s += buf;
            }
            s += '\n';
        }
        return s;
    }

    void write(const std::filesystem::path& file) const {
        const std::string text = csv();
        io::write_atomically(file, text.data(), text.size());
    }

    // ---- checkpoint records -------------------------------------------------------------
    void save(checkpoint_extra& extra) const {
        std::vector<double> flat;
        flat.reserve(rows_.size() * columns.size());
        for (const row& r : rows_) flat.insert(flat.end(), r.begin(), r.end());
        extra.set_u64("metrics/columns", columns.size());
        extra.set_f64s("metrics/rows", flat);
    }

    /// Restores the rows of a checkpoint (none when it has no metrics records).
    void load(const checkpoint_extra& extra) {
        rows_.clear();
        sums_.fill(0);
        count_ = 0;
        if (!extra.contains("metrics/rows")) return;
        const std::vector<double> flat = extra.get_f64s("metrics/rows");
        const std::size_t width = extra.get_u64("metrics/columns");
        if (width != columns.size() || flat.size() % width != 0) return;  // another layout: start afresh
        for (std::size_t at = 0; at < flat.size(); at += width) {
            row r;
            std::copy(flat.begin() + std::ptrdiff_t(at), flat.begin() + std::ptrdiff_t(at + width), r.begin());
            rows_.push_back(r);
        }
    }

private:
    std::vector<row> rows_;
    std::array<double, 7> sums_{};
    step_stats last_{};
    std::size_t count_ = 0;
};

}  // namespace gant::examples
