#include <gant/layers/dense.hpp>
#include <gant/layers/pointwise.hpp>
#include <gant/nn/sequential.hpp>
#include <gant/optim/adam.hpp>
#include <gant/optim/init.hpp>
#include <cstdio>
using namespace gant;

// The network is a type: per-sample shapes are checked when this line compiles.
using mlp = network<shape<2>, float, backend::cpu, dense<2, 32>, gant::tanh, dense<32, 1>>;

int main() {
    mlp net;
    rng random(42);
    init::apply(net, init::xavier{}, random);
    optim::adam<float> adam({.lr = 1e-2});
    tensor<float> x({64, 2}), dy({64, 1});  // 64 samples: the batch size is a run-time value
    for (auto& v : x) v = float(random.uniform(-1, 1));
    float loss = 0;
    for (int step = 0; step < 300; ++step) {
        const tensor<float>& y = net.forward(x);  // learn f(a, b) = a * b by least squares
        loss = 0;
        for (std::size_t i = 0; i < 64; ++i) {
            const float e = y(i, 0) - x(i, 0) * x(i, 1);
            loss += e * e / 64, dy(i, 0) = 2 * e / 64;
        }
        net.zero_grad();
        net.backward(dy, nullptr);  // parameter gradients; the input gradient is not needed
        adam.step(net);
    }
    std::printf("mean squared error after 300 Adam steps: %.5f\n", loss);
    return loss < 0.01f ? 0 : 1;
}
