// Control for the policy cases: the same critics compile with policies that suit them, so
// each refusal is the combination's, not the critic's.
#include <stdexcept>

#include "gant/gan.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"

template <class In, class T>
class cube_impl : public gant::stateless {  // as in penalty_without_second_order.cpp
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = false;
    void forward(const gant::tensor<T>& x, gant::tensor<T>& y, const gant::pass_context&) {
        for (std::size_t i = 0; i < x.size(); ++i) y.data()[i] = x.data()[i] * x.data()[i] * x.data()[i];
    }
    void backward(const gant::tensor<T>& x, const gant::tensor<T>&, const gant::tensor<T>& dy, gant::tensor<T>* dx,
                  bool, const gant::pass_context&) {
        if (dx)
            for (std::size_t i = 0; i < x.size(); ++i) dx->data()[i] = T(3) * x.data()[i] * x.data()[i] * dy.data()[i];
    }
    void forward_tangent(const gant::tensor<T>&, const gant::tensor<T>&, const gant::tensor<T>&, gant::tensor<T>&,
                         const gant::pass_context&) {
        throw std::logic_error("cube: no tangent rules");
    }
    void backward_paired(const gant::tensor<T>&, const gant::tensor<T>&, const gant::tensor<T>&,
                         const gant::tensor<T>&, const gant::tensor<T>&, const gant::tensor<T>&, gant::tensor<T>*,
                         gant::tensor<T>*, const gant::pass_context&) {
        throw std::logic_error("cube: no tangent rules");
    }
};
struct cube {
    static constexpr const char* name = "cube";
    using expects = gant::expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = cube_impl<In, T>;
};

using namespace gant;
using generator = sequential<dense<2, 8>, relu, dense<8, 3>>;
template <class Critic>
using topo = topology::custom<shape<2>, shape<3>, generator, Critic>;
using batch_norm_critic = sequential<dense<3, 8>, batch_norm<8>, leaky_relu<>, dense<8, 1>>;
using layer_norm_critic = sequential<dense<3, 8>, layer_norm<8>, leaky_relu<>, dense<8, 1>>;
using sigmoid_critic = sequential<dense<3, 8>, leaky_relu<>, dense<8, 1>, sigmoid>;
using cube_critic = sequential<dense<3, 8>, cube, dense<8, 1>>;

int main() {
    gan<topo<batch_norm_critic>, loss::wasserstein, lipschitz::weight_clip> a;     // WGAN's own setting
    gan<topo<layer_norm_critic>, loss::wasserstein, lipschitz::gradient_penalty> b;  // the fix the message names
    gan<topo<layer_norm_critic>, loss::wasserstein, lipschitz::wasserstein_div> c;
    gan<topo<sigmoid_critic>, loss::non_saturating> d;                              // not a Wasserstein loss
    gan<topo<cube_critic>, loss::wasserstein, lipschitz::spectral_norm> e;            // no penalty, no tangents needed
    (void)a, (void)b, (void)c, (void)d, (void)e;
}
