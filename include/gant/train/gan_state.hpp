#pragma once
// The whole training state of a gan<...> in one checkpoint file, and generator-only export.
//
//   save_checkpoint(model, "run/checkpoint.gant", extra);   // extra: the caller's own records
//   ...
//   model resumed(h, seed);                                 // same type, same hyper-parameters
//   load_checkpoint(resumed, "run/checkpoint.gant", extra); // continues bit-identically
//
//   export_generator(model, "generator.gant");              // EMA weights when EMA is on
//   load_generator(generator_network, "generator.gant");
//
// What is saved: both networks' parameters and buffers, the EMA generator (with EMA off, the
// generator again, which a load checks and skips), the state of the optimiser rule in use for
// each player (its step count and moment tensors), every random stream of the gan (init, latent
// codes, penalty interpolation) and the step counter; plus a
// configuration description (scalar type, shapes, policy names, every layer's name and tensor
// shapes, the optimiser rule) that a load compares entry by entry, naming the first difference.
// Run-time magnitudes (learning rates, lambda, n_critic, ...) are not part of the state: the caller
// constructs the gan with them, and may keep them in the extra records (read_checkpoint_extra
// returns them before the gan exists).
//
// A load reads and checks everything (framing, checksum, configuration, every record's type and
// shape, unknown records) before it copies a single value, so a failed load leaves the gan as it
// was. (Naming the optimiser state sizes a never-stepped optimiser's zero moments, exactly as its
// first step would; nothing observable changes.) The format is in train/checkpoint.hpp and
// docs/checkpoints.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "gant/gan.hpp"
#include "gant/nn/network_io.hpp"
#include "gant/train/checkpoint.hpp"
#include "gant/train/hyper_parameters.hpp"

namespace gant {

/// What save_checkpoint needs of a gan: gant::gan<...> has all of it.
template <class G>
concept checkpointable_gan = requires(G& g, std::size_t s) {
    typename G::scalar;
    typename G::latent_shape;
    typename G::sample_shape;
    g.generator();
    g.critic();
    g.ema_generator();
    g.generator_optimizer();
    g.critic_optimizer();
    { g.step() } -> std::convertible_to<std::size_t>;
    g.set_step(s);
    g.hyper();
};

namespace checkpoint::detail {

using config_entries = std::vector<std::pair<std::string, std::string>>;

/// One tensor of the state: where it lives and what it is called in the file.
template <class T>
struct tensor_slot {
    std::string record;
    std::vector<std::uint64_t> dims;
    T* data;
    std::uint64_t count;
    bool restore = true;  // false: a load checks the record but leaves *data as it is
};

/// Everything a file holds for one object, as pointers into that object.
template <class T>
struct state_layout {
    config_entries config;
    std::vector<tensor_slot<T>> tensors;
    std::vector<std::pair<std::string, std::uint64_t*>> counters;
    std::vector<std::pair<std::string, rng*>> streams;
};

/// The configuration is text, one "key<TAB>value" line per entry: no tabs or newlines inside.
inline std::string clean(std::string s) {
    for (auto& c : s)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
}

template <class T>
const char* scalar_name() {
    if constexpr (std::is_same_v<T, float>) return "float";
    else if constexpr (std::is_same_v<T, double>) return "double";
    else static_assert(sizeof(T) == 0, "gant: checkpoints support float and double networks");
}

template <class P>
std::string policy_name() {
    if constexpr (requires { P::name; }) return std::string(P::name);
    else return "unnamed";
}

inline std::vector<std::uint64_t> dims_of(const std::vector<std::size_t>& shape, std::size_t size) {
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    if (n != size) return {size};  // a layer whose logical shape is not its storage: store it flat
    return {shape.begin(), shape.end()};
}

/// Adds `net`'s parameters and buffers as records "<prefix>/<layer path>/<tensor name>"; with
/// `with_config`, also its description under `label` ("critic layer 3 weight" -> "128x64x4x4").
/// Without `restore`, a load checks these records but does not copy them into `net`.
template <class Net, class T>
void describe_network(Net& net, const std::string& label, const std::string& prefix, state_layout<T>& out,
                      bool with_config, bool restore = true) {
    if (with_config)
        out.config.emplace_back(label + " layers", std::to_string(network_io::top_level_layers<Net>()));
    network_io::visit_layers_named(net, [&](const std::string& path, const std::string& name, const std::string& output,
                                            auto& layer) {
        const std::string key = label + " layer " + path;
        std::string record_path = path;
        for (auto& c : record_path)
            if (c == '.') c = '/';
        if (with_config) out.config.emplace_back(key, clean(name));
        auto add = [&](auto& t) {  // a parameter<T> or a buffer<T>
            auto dims = dims_of(t.shape, t.size());
            if (with_config) out.config.emplace_back(clean(key + " " + t.name), dims_text(dims));
            out.tensors.push_back(
                {prefix + "/" + record_path + "/" + t.name, std::move(dims), t.data(), t.size(), restore});
        };
        layer.visit_parameters([&](parameter<T>& p) { add(p); });
        layer.visit_buffers([&](buffer<T>& b) { add(b); });
        if (with_config) out.config.emplace_back(key + " output", output);
    });
}

/// Adds the state of the optimiser rule in use as "optim/<label>/step", "optim/<label>/<k>.<slot>".
template <class Slot, class Net, class T>
void describe_optimizer(Slot& slot, Net& net, const std::string& label, state_layout<T>& out) {
    std::string slots;
    slot.visit_state(net, [&](const std::string& name, auto& v) {
        using V = std::remove_cvref_t<decltype(v)>;
        const std::string record = "optim/" + label + "/" + name;
        if constexpr (std::is_same_v<V, std::uint64_t>) {
            out.counters.emplace_back(record, &v);
        } else {
            out.tensors.push_back({record, {v.size()}, v.data(), v.size()});
            if (name.rfind("0.", 0) == 0) slots += (slots.empty() ? "" : ", ") + name.substr(2);
        }
    });
    out.config.emplace_back(label + " optimizer",
                            std::string(to_string(slot.kind())) + (slots.empty() ? "" : " (" + slots + ")"));
}

template <class Gan>
state_layout<typename Gan::scalar> describe_gan(Gan& g) {
    using T = typename Gan::scalar;
    state_layout<T> out;
    out.config = {{"kind", "gan training state"},
                  {"scalar type", scalar_name<T>()},
                  {"latent shape", Gan::latent_shape::to_string()},
                  {"sample shape", Gan::sample_shape::to_string()},
                  {"loss", clean(policy_name<typename Gan::loss_type>())},
                  {"lipschitz", clean(policy_name<typename Gan::lipschitz_type>())},
                  {"growth", clean(policy_name<typename Gan::growth_type>())}};
    describe_network(g.generator(), "generator", "generator", out, true);
    describe_network(g.critic(), "critic", "critic", out, true);
    // The EMA records are always there, so that one file format serves both settings. With EMA
    // off there is no average: they hold the generator's weights (where switching the average on
    // would start it), and a load checks them but restores nothing from them, so that a file
    // saved with EMA on never writes its average into a generator resumed with EMA off.
    const bool ema_on = g.hyper().ema;
    describe_network(ema_on ? g.ema_generator() : g.generator(), "ema generator", "ema", out, false, ema_on);
    describe_optimizer(g.generator_optimizer(), g.generator(), "generator", out);
    describe_optimizer(g.critic_optimizer(), g.critic(), "critic", out);
    g.visit_random_streams([&](const char* name, rng& r) { out.streams.emplace_back(std::string("rng/") + name, &r); });
    if constexpr (Gan::growth_type::grows) {
        // Where the schedule stands: images shown, and the level the optimisers belong to.
        out.counters.emplace_back("growth/images", &g.growth().images);
        out.counters.emplace_back("growth/level", &g.growth().level);
    }
    return out;
}

template <class Net>
state_layout<typename Net::scalar> describe_generator(Net& net) {
    using T = typename Net::scalar;
    state_layout<T> out;
    out.config = {{"kind", "generator export"},
                  {"scalar type", scalar_name<T>()},
                  {"input shape", Net::input_shape::to_string()},
                  {"output shape", Net::output_shape::to_string()}};
    describe_network(net, "generator", "generator", out, true);
    return out;
}

inline std::string config_text(const config_entries& entries) {
    std::string s;
    for (const auto& [k, v] : entries) s += k + '\t' + v + '\n';
    return s;
}

/// Adds the layout's records to `w`, after refusing a state that holds a NaN or an infinity: the
/// loader refuses such a file (see first_nonfinite), so writing it would replace a good file with
/// one that cannot be used. The training guard stops a run whose losses, gradients or weights stop
/// being finite; an optimiser's moment estimates can overflow on their own (Adam's squared
/// gradient passes the float range when a gradient nears 1e19, while the weights stay finite and
/// simply stop moving), and this is where that is caught: a training_error whose message starts
/// with `what` ("gant: step 12"). Every saver (checkpoint, generator export, classifier) comes here.
template <class T>
void add_layout(writer& w, const state_layout<T>& layout, const std::string& what) {
    for (const auto& t : layout.tensors)
        for (std::uint64_t i = 0; i < t.count; ++i)
            if (!std::isfinite(t.data[i]))
                throw training_error(what + ": '" + t.record + "' holds a non-finite value (" +
                                     (std::isnan(t.data[i]) ? "NaN" : "infinity") + ") at element " +
                                     std::to_string(i) +
                                     ", so nothing was saved (gant saves only finite states, which alone load): "
                                     "training has diverged, for instance from too high a learning rate");
    w.add_string("config", config_text(layout.config));
    for (const auto& t : layout.tensors) w.add<T>(t.record, t.dims, t.data, t.count);
    for (const auto& [name, value] : layout.counters) w.add_u64(name, *value);
    for (const auto& [name, stream] : layout.streams) w.add_rng_state(name, stream->state());
}

inline config_entries parse_config(const reader& r) {
    const record_view* c = r.find("config");
    if (!c || c->type != dtype::u8 || c->dims.size() != 1)
        r.fail("has no configuration record, so it was not written by save_checkpoint or export_generator");
    const std::string_view text(reinterpret_cast<const char*>(c->data), c->count);
    config_entries entries;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(at, end - at);
        const std::size_t tab = line.find('\t');
        if (tab == std::string_view::npos)
            r.fail("is corrupt: line " + std::to_string(entries.size() + 1) + " of its configuration has no value");
        entries.emplace_back(std::string(line.substr(0, tab)), std::string(line.substr(tab + 1)));
        at = end + 1;
    }
    return entries;
}

/// Compares the file's configuration with ours and fails with a sentence naming the first difference.
inline void check_config(const reader& r, const config_entries& ours) {
    const config_entries theirs = parse_config(r);
    if (!theirs.empty() && !ours.empty() && theirs[0].first == "kind" && ours[0].first == "kind" &&
        theirs[0].second != ours[0].second)
        r.fail("holds a " + theirs[0].second + ", but a " + ours[0].second + " was expected");
    const std::size_t n = std::max(ours.size(), theirs.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (i >= ours.size())
            r.fail("does not match this configuration: the file has a further entry '" + theirs[i].first + "' (" +
                   theirs[i].second + ")");
        if (i >= theirs.size())
            r.fail(ours[i].first + ": expected " + ours[i].second + ", the file's configuration ends before it");
        const auto& [ok, ov] = ours[i];
        const auto& [tk, tv] = theirs[i];
        if (ok == tk) {
            if (ov != tv) r.fail(ok + ": expected " + ov + ", file has " + tv);
        } else {
            r.fail("does not match this configuration: expected " + ok + " (" + ov + "), file has " + tk + " (" + tv +
                   ")");
        }
    }
}

/// A load that has passed every check; commit() copies the values and cannot fail.
template <class T>
struct validated_load {
    std::vector<std::pair<const record_view*, T*>> tensors;
    std::vector<std::pair<std::uint64_t, std::uint64_t*>> counters;
    std::vector<std::pair<rng::full_state, rng*>> streams;
    checkpoint_extra extra;

    void commit() {
        for (const auto& [record, target] : tensors) reader::copy_out(*record, target);
        for (const auto& [value, target] : counters) *target = value;
        for (const auto& [state, target] : streams) target->set_state(state);
    }
};

/// The index of the first NaN or infinity among a record's elements of type T, if any. A
/// checkpoint is only ever written from a finite state (the training guard stops a run before a
/// non-finite step is saved), so such a value means the file was damaged or forged, and loading
/// it would give NaN samples or scores that look like results.
template <class T>
std::optional<std::uint64_t> first_nonfinite(const record_view& r) {
    constexpr std::size_t chunk = 4096;  // converted piecewise: no copy of a large record
    T buffer[chunk];
    for (std::uint64_t at = 0; at < r.count; at += chunk) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, r.count - at));
        convert_le(r.data + at * sizeof(T), buffer, n, sizeof(T));
        for (std::size_t i = 0; i < n; ++i)
            if (!std::isfinite(buffer[i])) return at + i;
    }
    return std::nullopt;
}

/// Checks the configuration, that every record the layout needs is present with its type and
/// shape and holds only finite values, and that the file holds nothing else (besides
/// `also_known` and, when allowed, extras).
template <class T>
validated_load<T> validate(const reader& r, state_layout<T>& layout, std::initializer_list<std::string_view> also_known,
                           bool extras_allowed) {
    check_config(r, layout.config);
    validated_load<T> v;
    std::set<std::string, std::less<>> known{"config"};
    for (auto name : also_known) known.emplace(name);
    for (auto& t : layout.tensors) {
        const record_view& record = r.get(t.record, dtype_of<T>(), t.dims);
        if (const auto bad = first_nonfinite<T>(record))
            r.fail("record '" + t.record + "' holds a non-finite value (NaN or infinity) at element " +
                   std::to_string(*bad) + "; a gant checkpoint is only written from a finite state");
        if (t.restore) v.tensors.emplace_back(&record, t.data);
        known.insert(t.record);
    }
    for (const auto& [name, target] : layout.counters) {
        v.counters.emplace_back(r.get_u64(name), target);
        known.insert(name);
    }
    for (const auto& [name, target] : layout.streams) {
        rng::full_state s;
        const std::string problem = decode_rng_state(r.get_vector<std::uint64_t>(name), s);
        if (!problem.empty()) r.fail("record '" + name + "': " + problem);
        v.streams.emplace_back(s, target);
        known.insert(name);
    }
    v.extra.set_source(r.file());
    for (const auto& record : r.records()) {
        if (known.count(record.name)) continue;
        if (extras_allowed && record.name.size() > 6 && record.name.rfind("extra/", 0) == 0) {
            v.extra.adopt(record.name.substr(6), record);
            continue;
        }
        r.fail("has a record '" + record.name + "' that this configuration does not use");
    }
    return v;
}

}  // namespace checkpoint::detail

/// Writes the whole training state of `g` (and the caller's `extra` records) to `file`, atomically:
/// a crash or a failed write leaves the previous file whole. Throws checkpoint_error, or
/// training_error (nothing written) when the state holds a NaN or an infinity.
template <checkpointable_gan Gan>
void save_checkpoint(Gan& g, const std::filesystem::path& file, const checkpoint_extra& extra = {}) {
    auto layout = checkpoint::detail::describe_gan(g);
    checkpoint::writer w;
    checkpoint::detail::add_layout(w, layout, "gant: step " + std::to_string(g.step()));
    w.add_u64("step", static_cast<std::uint64_t>(g.step()));
    extra.add_to(w, "extra/");
    w.write(file);
}

/// Restores the state saved by save_checkpoint into `g`, a gan of the same type built with the
/// same hyper-parameters; training then continues exactly as the saving run would have. The
/// file's extra records replace the content of `extra`. On any error (checkpoint_error, naming the
/// file and the first problem) `g` and `extra` are left as they were.
template <checkpointable_gan Gan>
void load_checkpoint(Gan& g, const checkpoint::reader& r, checkpoint_extra& extra) {
    auto layout = checkpoint::detail::describe_gan(g);
    auto v = checkpoint::detail::validate(r, layout, {"step"}, true);
    const std::uint64_t step = r.get_u64("step");
    if (step > std::numeric_limits<std::size_t>::max()) r.fail("record 'step' is out of range");
    if constexpr (Gan::growth_type::grows)
        if (r.get_u64("growth/level") >= Gan::topology_type::levels)
            r.fail("record 'growth/level' names level " + std::to_string(r.get_u64("growth/level")) +
                   ", but the networks have " + std::to_string(Gan::topology_type::levels));
    // Nothing below throws.
    v.commit();
    g.set_step(static_cast<std::size_t>(step));
    if constexpr (Gan::growth_type::grows)
        g.set_phase(g.growth().at(g.growth().images, Gan::topology_type::levels));
    extra = std::move(v.extra);
}

template <checkpointable_gan Gan>
void load_checkpoint(Gan& g, const std::filesystem::path& file, checkpoint_extra& extra) {
    const checkpoint::reader r(file);
    load_checkpoint(g, r, extra);
}

template <checkpointable_gan Gan>
void load_checkpoint(Gan& g, const std::filesystem::path& file) {
    checkpoint_extra ignored;
    load_checkpoint(g, file, ignored);
}

/// The extra records of a checkpoint, without a gan (to read the hyper-parameters a run was
/// started with before constructing the gan that resumes it). The file is fully checked.
inline checkpoint_extra read_checkpoint_extra(const checkpoint::reader& r) {
    checkpoint_extra extra;
    extra.set_source(r.file());
    for (const auto& record : r.records())
        if (record.name.size() > 6 && record.name.rfind("extra/", 0) == 0) extra.adopt(record.name.substr(6), record);
    return extra;
}

inline checkpoint_extra read_checkpoint_extra(const std::filesystem::path& file) {
    const checkpoint::reader r(file);
    return read_checkpoint_extra(r);
}

/// Writes the generator for inference: weights and buffers of the EMA generator when EMA is on,
/// else of the generator. Atomic like save_checkpoint.
template <checkpointable_gan Gan>
void export_generator(Gan& g, const std::filesystem::path& file) {
    auto& net = g.hyper().ema ? g.ema_generator() : g.generator();
    auto layout = checkpoint::detail::describe_generator(net);
    checkpoint::writer w;
    checkpoint::detail::add_layout(w, layout, "gant: step " + std::to_string(g.step()) + ": the generator");
    w.write(file);
}

/// Loads a file written by export_generator into a network of the same type (the generator type
/// of the gan that exported it). On error, `net` is left as it was.
template <class Net>
void load_generator(Net& net, const checkpoint::reader& r) {
    auto layout = checkpoint::detail::describe_generator(net);
    auto v = checkpoint::detail::validate(r, layout, {}, false);
    v.commit();
}

template <class Net>
void load_generator(Net& net, const std::filesystem::path& file) {
    const checkpoint::reader r(file);
    load_generator(net, r);
}

/// The configuration entries ("kind", "scalar type", shapes, layers, ...) of a checked file.
/// Throws checkpoint_error when it has none.
inline std::vector<std::pair<std::string, std::string>> checkpoint_configuration(const checkpoint::reader& r) {
    return checkpoint::detail::parse_config(r);
}

/// Whether `r` is a generator export written for a network of Net's type: its configuration
/// matches `net`'s entry by entry. How a program that knows several generator types picks the
/// one a file needs (examples/sample/gant_sample.cpp).
template <class Net>
bool matches_generator_export(const checkpoint::reader& r, Net& net) {
    try {
        checkpoint::detail::check_config(r, checkpoint::detail::describe_generator(net).config);
        return true;
    } catch (const checkpoint_error&) {
        return false;
    }
}

}  // namespace gant
