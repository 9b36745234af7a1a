#pragma once
// Which backend the example programs train on, chosen at compile time by one CMake option:
// GANT_EXAMPLES_CUDA=ON (with a CUDA toolkit) builds every example for backend::cuda, so its
// networks, batches and optimiser state live on the GPU; the default is backend::cpu. The
// programs write the same files either way (grid.png, samples.idx, metrics.csv,
// checkpoint.gant, generator.gant), and a checkpoint of one resumes on the other.
#ifdef GANT_EXAMPLES_CUDA
#include "gant/backend/cuda.hpp"
#include "gant/cuda/train/gan_state.hpp"  // checkpoints of device gans, through the host
#else
#include "gant/backend/cpu.hpp"
#endif

#include <string>

namespace gant::examples {

#ifdef GANT_EXAMPLES_CUDA
using backend_type = gant::backend::cuda;
#else
using backend_type = gant::backend::cpu;
#endif

/// Why Model cannot train on this machine ("" when it can): a GPU build without a usable GPU.
template <class Model>
std::string backend_problem() {
#ifdef GANT_EXAMPLES_CUDA
    if constexpr (!Model::host_batches)
        if (gant::cuda::device_count() == 0)
            return "this program was built for the GPU (GANT_EXAMPLES_CUDA) but no CUDA device is usable (" +
                   gant::cuda::no_device_reason() + ")";
#endif
    return "";
}

}  // namespace gant::examples
