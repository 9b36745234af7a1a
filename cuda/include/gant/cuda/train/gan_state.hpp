#pragma once
// Checkpoints of a gan<..., float, backend::cuda>: the same files as the CPU's (train/gan_state.hpp,
// docs/checkpoints.md), written and read through the host. A device gan's whole training state
// (both networks, the moving average, each player's optimiser state, the random streams, the
// step) is downloaded into the same gan built for backend::cpu, which writes the file; a load
// reads and checks the file into such a host gan first and uploads only once everything has
// passed, so a failed load leaves the device gan as it was. The files carry no backend: a
// checkpoint written on the GPU resumes on the CPU and the other way round.
//
//   #include "gant/cuda/train/gan_state.hpp"
//   save_checkpoint(device_model, "run/checkpoint.gant", extra);
//   load_checkpoint(device_model, "run/checkpoint.gant", extra);
#include <filesystem>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/cuda/train/network_transfer.hpp"
#include "gant/gan.hpp"
#include "gant/train/gan_state.hpp"

namespace gant {

namespace cuda {

/// The host twin of a gan<...> built for backend::cuda: the same policies on backend::cpu.
template <class G>
using host_gan_t = gan<typename G::topology_type, typename G::loss_type, typename G::lipschitz_type,
                       typename G::growth_type, typename G::scalar, backend::cpu>;

namespace detail {

template <class From, class To>
void copy_random_streams(From& from, To& to) {
    std::vector<rng::full_state> states;
    from.visit_random_streams([&](const char*, rng& r) { states.push_back(r.state()); });
    std::size_t k = 0;
    to.visit_random_streams([&](const char*, rng& r) { r.set_state(states.at(k++)); });
}

}  // namespace detail

/// host <- device: the whole training state (waits for the device's queued work).
template <class DeviceGan, class HostGan>
void download_state(DeviceGan& device, HostGan& host) {
    download_network(device.generator(), host.generator());
    download_network(device.critic(), host.critic());
    download_network(device.ema_generator(), host.ema_generator());
    device.generator_optimizer().download(host.generator_optimizer(), host.generator(), device.generator());
    device.critic_optimizer().download(host.critic_optimizer(), host.critic(), device.critic());
    detail::copy_random_streams(device, host);
    host.set_step(device.step());
}

/// device <- host: the whole training state.
template <class HostGan, class DeviceGan>
void upload_state(HostGan& host, DeviceGan& device) {
    upload_network(host.generator(), device.generator());
    upload_network(host.critic(), device.critic());
    upload_network(host.ema_generator(), device.ema_generator());
    device.generator_optimizer().upload(host.generator_optimizer(), host.generator(), device.generator());
    device.critic_optimizer().upload(host.critic_optimizer(), host.critic(), device.critic());
    detail::copy_random_streams(host, device);
    device.set_step(host.step());
}

}  // namespace cuda

template <class Topology, class Loss, class Lipschitz, class Growth>
void save_checkpoint(gan<Topology, Loss, Lipschitz, Growth, float, backend::cuda>& g, const std::filesystem::path& file,
                     const checkpoint_extra& extra = {}) {
    cuda::host_gan_t<std::remove_reference_t<decltype(g)>> host(g.hyper());
    cuda::download_state(g, host);
    save_checkpoint(host, file, extra);
}

template <class Topology, class Loss, class Lipschitz, class Growth>
void load_checkpoint(gan<Topology, Loss, Lipschitz, Growth, float, backend::cuda>& g, const checkpoint::reader& r,
                     checkpoint_extra& extra) {
    cuda::host_gan_t<std::remove_reference_t<decltype(g)>> host(g.hyper());
    load_checkpoint(host, r, extra);  // every check happens here, before the device gan changes
    cuda::upload_state(host, g);
}

template <class Topology, class Loss, class Lipschitz, class Growth>
void load_checkpoint(gan<Topology, Loss, Lipschitz, Growth, float, backend::cuda>& g, const std::filesystem::path& file,
                     checkpoint_extra& extra) {
    const checkpoint::reader r(file);
    load_checkpoint(g, r, extra);
}

template <class Topology, class Loss, class Lipschitz, class Growth>
void load_checkpoint(gan<Topology, Loss, Lipschitz, Growth, float, backend::cuda>& g,
                     const std::filesystem::path& file) {
    checkpoint_extra ignored;
    load_checkpoint(g, file, ignored);
}

/// The generator for inference (the moving average's weights when it is on), as a file that
/// load_generator reads into the same generator on either backend's host network.
template <class Topology, class Loss, class Lipschitz, class Growth>
void export_generator(gan<Topology, Loss, Lipschitz, Growth, float, backend::cuda>& g,
                      const std::filesystem::path& file) {
    cuda::host_gan_t<std::remove_reference_t<decltype(g)>> host(g.hyper());
    cuda::download_network(g.generator(), host.generator());
    cuda::download_network(g.ema_generator(), host.ema_generator());
    host.set_step(g.step());  // named in the message if the weights are not finite
    export_generator(host, file);
}

}  // namespace gant
