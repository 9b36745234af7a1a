// Control case and documentation check: the user-written layer shown in docs/concepts.md
// ("Writing a layer") satisfies the layer contract and composes with gant's own layers.
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/sequential.hpp"

// ---- begin docs/concepts.md example ----
// y_j = a_j * x_j with one learnable scale per feature.
template <class In, class T, class Backend>
class feature_scale_impl : public gant::stateless {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;  // each sample on its own
    static constexpr bool second_order = true;      // the tangent rules below are implemented

    feature_scale_impl() : scale_("scale", {In::size}, gant::role::scale) {}

    void forward(const gant::tensor<T>& x, gant::tensor<T>& y, const gant::pass_context&) {
        for (std::size_t n = 0; n < x.shape(0); ++n)
            for (std::size_t j = 0; j < In::size; ++j) y(n, j) = scale_.value(j) * x(n, j);
    }
    void backward(const gant::tensor<T>& x, const gant::tensor<T>&, const gant::tensor<T>& dy,
                  gant::tensor<T>* dx, bool accumulate, const gant::pass_context&) {
        for (std::size_t n = 0; n < x.shape(0); ++n)
            for (std::size_t j = 0; j < In::size; ++j) {
                if (accumulate) scale_.grad(j) += dy(n, j) * x(n, j);
                if (dx) (*dx)(n, j) = scale_.value(j) * dy(n, j);
            }
    }
    // The map is linear in x, so the tangent is the same map applied to xdot ...
    void forward_tangent(const gant::tensor<T>&, const gant::tensor<T>&, const gant::tensor<T>& xdot,
                         gant::tensor<T>& ydot, const gant::pass_context& ctx) {
        forward(xdot, ydot, ctx);
    }
    // ... and the paired reverse is the backward pass run once on each path; the scale's
    // gradient collects both: abar += ybar * x + ydotbar * xdot.
    void backward_paired(const gant::tensor<T>& x, const gant::tensor<T>& y, const gant::tensor<T>& xdot,
                         const gant::tensor<T>&, const gant::tensor<T>& ybar, const gant::tensor<T>& ydotbar,
                         gant::tensor<T>* xbar, gant::tensor<T>* xdotbar, const gant::pass_context& ctx) {
        backward(x, y, ybar, xbar, true, ctx);
        backward(xdot, y, ydotbar, xdotbar, true, ctx);
    }
    template <class F>
    void visit_parameters(F&& f) { f(scale_); }

private:
    gant::parameter<T> scale_;
};

struct feature_scale {
    static constexpr const char* name = "feature_scale";
    using expects = gant::expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = feature_scale_impl<In, T, B>;
};
// ---- end docs/concepts.md example ----

static_assert(gant::layer_descriptor<feature_scale>);
static_assert(gant::layer_impl<feature_scale_impl<gant::shape<3>, double, gant::backend::cpu>>);

int main() {
    gant::network<gant::shape<5>, double, gant::backend::cpu, gant::dense<5, 4>, feature_scale, gant::tanh,
                  gant::dense<4, 1>>
        net;
    return net.second_order && !net.couples_samples ? 0 : 1;
}
