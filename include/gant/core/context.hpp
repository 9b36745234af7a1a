#pragma once
// What a layer needs to know about the pass it is part of, beyond its inputs.
#include "gant/core/rng.hpp"
#include "gant/core/threads.hpp"

namespace gant {

enum class mode { training, inference };

struct pass_context {
    gant::mode mode = mode::training;
    thread_pool* pool = &default_pool();
    bool update_statistics = true;  // training-mode passes may update running statistics
    bool training() const { return mode == mode::training; }
};

}  // namespace gant
