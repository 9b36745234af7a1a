// Must not compile: a gradient penalty over a critic with a layer that has no second-order
// (tangent) rules. The user layer below meets the layer contract but declares
// second_order = false, as a layer whose author has not written the JVP rules would.
#include <stdexcept>

#include "gant/gan.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"

// y = x^3 elementwise, first order only.
template <class In, class T>
class cube_impl : public gant::stateless {
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
using critic = sequential<dense<3, 8>, cube, dense<8, 1>>;
using model = gan<topology::custom<shape<2>, shape<3>, generator, critic>, loss::wasserstein, lipschitz::gradient_penalty>;

int main() {
    model m;
    (void)m;
}
