// Uses gant as an installed package: a tiny network, one forward pass, checked by hand.
#include <gant/layers/dense.hpp>
#include <gant/layers/pointwise.hpp>
#include <gant/nn/sequential.hpp>

#include <cmath>
#include <cstdio>

int main() {
    using net_t = gant::network<gant::shape<4>, float, gant::backend::cpu, gant::dense<4, 3>, gant::tanh>;
    static_assert(net_t::output_size == 3);

    net_t net;
    auto& layer = net.layer<0>();
    for (std::size_t i = 0; i < layer.weight().size(); ++i) layer.weight().value(i) = 0.1f * float(i % 5) - 0.2f;
    layer.bias().value = {0.1f, -0.1f, 0.0f};

    gant::tensor<float> x = {{1.0f, 2.0f, -1.0f, 0.5f}, {0.0f, -0.5f, 0.25f, 1.0f}};
    const auto& y = net.forward(x);

    int failures = 0;
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t o = 0; o < 3; ++o) {
            float a = layer.bias().value(o);
            for (std::size_t i = 0; i < 4; ++i) a += layer.weight().value(o * 4 + i) * x(n, i);
            if (std::abs(y(n, o) - std::tanh(a)) > 1e-6f) ++failures;
        }
    std::printf("find_package consumer: output %zux%zu, %d mismatches\n", y.shape(0), y.shape(1), failures);
    return failures == 0 && y.shape(0) == 2 && y.shape(1) == 3 ? 0 : 1;
}
