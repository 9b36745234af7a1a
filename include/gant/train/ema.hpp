#pragma once
// An exponential moving average of a network's weights (PGGAN's G_smoothing, decay 0.999):
// ema <- decay * ema + (1 - decay) * weights after every generator step; buffers (batch-norm
// running statistics) are copied. The EMA network is used for samples and evaluation.
#include <vector>

#include "gant/core/parameter.hpp"

namespace gant {

template <class Net>
class ema {
public:
    using T = typename Net::scalar;

    /// Starts the average at the network's current weights.
    void reset(Net& source) {
        average_ = source;
        bind();
    }

    void update(Net& source, double decay) {
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

    Net& network() { return average_; }

    ema() = default;
    ema(const ema& other) : average_(other.average_) { bind(); }
    ema& operator=(const ema& other) {
        average_ = other.average_;
        bind();
        return *this;
    }

private:
    void bind() {  // pointer tables so update() allocates nothing
        params_.clear();
        buffers_.clear();
        average_.visit_parameters([&](parameter<T>& p) { params_.push_back(&p); });
        average_.visit_buffers([&](buffer<T>& b) { buffers_.push_back(&b); });
    }

    Net average_;
    std::vector<parameter<T>*> params_;
    std::vector<buffer<T>*> buffers_;
};

}  // namespace gant
