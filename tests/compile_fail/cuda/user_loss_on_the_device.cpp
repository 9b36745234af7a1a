// Must not compile: gan<..., backend::cuda> with a loss policy of the user's own, which has no
// device kernel. The message names the slot and what to do instead.
#include "gant/backend/cuda.hpp"
#include "gant/gan.hpp"
#include "gant/topology/mlp.hpp"

using namespace gant;

struct my_loss {
    struct params {};
    params p;
    static constexpr const char* name = "my_loss";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;
    template <class T>
    T critic(const tensor<T>&, const tensor<T>&, tensor<T>&, tensor<T>&) const {
        return T(0);
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>&, tensor<T>&) const {
        return T(0);
    }
};

using model = gan<topology::mlp<shape<4>, shape<4>, 8, 1>, my_loss, lipschitz::none, growth::fixed, float,
                  backend::cuda>;

int main() {
    model m;
    m.train_step([](cuda::device_batch<float>&) {});
}
