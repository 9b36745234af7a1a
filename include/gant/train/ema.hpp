#pragma once
// An exponential moving average of a network's weights (PGGAN's G_smoothing, decay 0.999):
// ema <- decay * ema + (1 - decay) * weights after every generator step; buffers (batch-norm
// running statistics) are copied. The EMA network is used for samples and evaluation.
//
// The average is a whole second network, so it exists only while it is in use: reset() makes
// it (or restarts it), release() gives its memory back. A gan with EMA off holds none.
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/parameter.hpp"

namespace gant {

template <class Net>
class ema {
public:
    using T = typename Net::scalar;

    /// Starts the average at the network's current weights (a fresh copy: resets are rare, when
    /// a gan is made or its EMA is switched on, never in a training step).
    void reset(const Net& source) {
        average_ = std::make_unique<Net>(source);
        bind();
    }

    /// Drops the average and its memory; active() is false until the next reset().
    void release() {
        average_.reset();
        params_.clear();
        buffers_.clear();
    }

    /// Whether there is an average (reset() was called, release() was not since).
    bool active() const { return average_ != nullptr; }

    void update(Net& source, double decay) {
        require_active("update");
        std::size_t k = 0;
        const T d = T(decay), rest = T(1.0 - decay);
        source.visit_parameters([&](parameter<T>& p) {
            T* e = params_[k++]->data();
            const T* w = p.data();
            for (std::size_t i = 0, n = p.size(); i < n; ++i) e[i] = d * e[i] + rest * w[i];
        });
        k = 0;
        source.visit_buffers([&](buffer<T>& b) {
            std::copy(b.value.begin(), b.value.end(), buffers_[k++]->value.begin());
        });
    }

    /// The averaged network (for samples and evaluation); std::logic_error when there is none.
    Net& network() {
        require_active("network");
        return *average_;
    }

    ema() = default;
    ema(ema&&) noexcept = default;
    ema& operator=(ema&&) noexcept = default;
    ema(const ema& other) { *this = other; }
    ema& operator=(const ema& other) {
        if (this == &other) return *this;
        release();
        if (other.average_) reset(*other.average_);
        return *this;
    }

private:
    void require_active(const char* call) const {
        if (!average_)
            throw std::logic_error(std::string("gant::ema::") + call +
                                   ": there is no average; call reset(network) first (a gan makes it when EMA is on)");
    }

    void bind() {  // pointer tables so update() allocates nothing
        params_.clear();
        buffers_.clear();
        average_->visit_parameters([&](parameter<T>& p) { params_.push_back(&p); });
        average_->visit_buffers([&](buffer<T>& b) { buffers_.push_back(&b); });
    }

    // Held by pointer: absent while EMA is off, and moving the ema keeps the tables valid.
    std::unique_ptr<Net> average_;
    std::vector<parameter<T>*> params_;
    std::vector<buffer<T>*> buffers_;
};

}  // namespace gant
