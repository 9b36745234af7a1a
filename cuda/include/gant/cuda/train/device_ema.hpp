#pragma once
// An exponential moving average of a device network's weights: gant::ema (train/ema.hpp) for a
// network built for backend::cuda. average <- decay * average + (1 - decay) * weights after every
// generator step (the ema_update kernel, which mirrors gant::ema's arithmetic); buffers (batch
// norm's running statistics) are copied.
//
// Device networks cannot be copied (their device_buffers are move-only), so the average is a
// network default-constructed once, on the first reset(), and every value reaches it by a
// device-to-device copy. All work is queued on the legacy default stream, in order with the
// device layers' passes.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gant/cuda/check.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/layers/device_state.hpp"

namespace gant::cuda {

template <class Net>
class device_ema {
public:
    using T = typename Net::scalar;
    static_assert(std::is_same_v<T, float>, "gant: device_ema is float32 only; use gant::ema on backend::cpu");

    /// Starts the average at the network's current weights and buffers.
    void reset(Net& source) {
        if (!average_) {
            // Held by pointer so that moving this object keeps the pointer tables valid.
            average_ = std::make_unique<Net>();
            bind();
        }
        std::size_t k = 0;
        source.visit_parameters([&](device_parameter<T>& p) { copy(*table_entry(params_, k++, p, "reset"), p); });
        require_count(params_, k, "parameters", "reset");
        k = 0;
        source.visit_buffers([&](device_state<T>& b) { copy(*table_entry(buffers_, k++, b, "reset"), b); });
        require_count(buffers_, k, "buffers", "reset");
    }

    /// Drops the average and its device memory; active() is false until the next reset().
    void release() {
        average_.reset();
        params_.clear();
        buffers_.clear();
    }

    /// Whether there is an average (reset() was called, release() was not since).
    bool active() const { return average_ != nullptr; }

    /// One step of the average towards `source`'s weights; its buffers are copied.
    void update(Net& source, double decay) {
        if (!average_)
            throw std::logic_error("gant::cuda::device_ema::update: call reset(network) before the first update");
        std::size_t k = 0;
        source.visit_parameters([&](device_parameter<T>& p) {
            device_parameter<T>& average = *table_entry(params_, k++, p, "update");
            ema_update(decay, average.data(), p.data(), p.size(), nullptr);
        });
        require_count(params_, k, "parameters", "update");
        k = 0;
        source.visit_buffers([&](device_state<T>& b) { copy(*table_entry(buffers_, k++, b, "update"), b); });
        require_count(buffers_, k, "buffers", "update");
    }

    /// The averaged network (for samples and evaluation).
    Net& network() {
        if (!average_)
            throw std::logic_error("gant::cuda::device_ema::network: call reset(network) before using the average");
        return *average_;
    }

private:
    void bind() {  // pointer tables, made once, so that update() allocates nothing
        average_->visit_parameters([&](device_parameter<T>& p) { params_.push_back(&p); });
        average_->visit_buffers([&](device_state<T>& b) { buffers_.push_back(&b); });
    }

    /// The average's tensor k, refused when the source has more tensors than the average or
    /// one of another size (the same Net type visits the same tensors, so this is a guard
    /// against a network whose visits change, not an expected case).
    template <class Tensor>
    static Tensor* table_entry(const std::vector<Tensor*>& table, std::size_t k, const Tensor& source,
                               const char* call) {
        if (k >= table.size() || table[k]->size() != source.size())
            throw std::invalid_argument(std::string("gant::cuda::device_ema::") + call + ": the network's tensor '" +
                                        source.name + "' (#" + std::to_string(k) +
                                        ") does not match the average's; the network changed since reset");
        return table[k];
    }

    template <class Tensor>
    static void require_count(const std::vector<Tensor*>& table, std::size_t seen, const char* what, const char* call) {
        if (seen != table.size())
            throw std::invalid_argument(std::string("gant::cuda::device_ema::") + call + ": the network has " +
                                        std::to_string(seen) + " " + what + " but the average has " +
                                        std::to_string(table.size()));
    }

    template <class Tensor>
    static void copy(Tensor& to, const Tensor& from) {
        if (from.size() == 0) return;
        GANT_CUDA_CHECK(
            cudaMemcpyAsync(to.data(), from.data(), from.size() * sizeof(T), cudaMemcpyDeviceToDevice, nullptr));
    }

    std::unique_ptr<Net> average_;
    std::vector<device_parameter<T>*> params_;
    std::vector<device_state<T>*> buffers_;
};

}  // namespace gant::cuda
