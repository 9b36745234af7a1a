// Your own loss and penalty, composed with a built-in topology: a relativistic average GAN
// (Jolicoeur-Martineau 2018, arXiv:1807.00734) with the R1 gradient penalty (Mescheder et al.
// 2018, arXiv:1801.04406) on the DCGAN networks. Both policies are defined below, in user code,
// against the contracts of gant/loss/policy.hpp and gant/lipschitz/policy.hpp; the library is
// not touched. The trainer picks up R1's gamma as the --gamma flag by itself.
//
//   custom_policy --minutes 10 --threads 2 --out out/custom_policy
#include <algorithm>
#include <cmath>

#include "../common/trainer.hpp"
#include "gant/topology/dcgan.hpp"

/// RaSGAN: the critic judges whether a real sample looks more real than the average fake, and a
/// fake less real than the average real, with C the critic's raw score:
///   L_D = E_r softplus(-(C(x_r) - E C(x_f))) + E_f softplus(C(x_f) - E C(x_r)),
///   L_G = the same with real and fake swapped.
/// Each score's gradient involves the other batch's mean, so the loss is not separable (gan<...>
/// then refuses a batch-norm critic) and the generator's loss reads real scores.
struct relativistic_average {
    struct params {};
    params p;
    static constexpr const char* name = "relativistic_average";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = true;
    static constexpr bool separable = false;

    template <class T>
    T critic(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_real,
             gant::tensor<T>& d_fake) const {
        return objective(real, fake, &d_real, &d_fake);
    }
    template <class T>
    T generator(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_fake) const {
        return objective(fake, real, &d_fake, static_cast<gant::tensor<T>*>(nullptr));
    }

private:
    template <class T>
    static T softplus(T u) { return std::max(u, T(0)) + std::log1p(std::exp(-std::abs(u))); }
    template <class T>
    static T sigmoid(T u) { return u >= T(0) ? T(1) / (T(1) + std::exp(-u)) : std::exp(u) / (T(1) + std::exp(u)); }
    template <class T>
    static T mean(const gant::tensor<T>& t) {
        T s = 0;
        for (auto v : t) s += v;
        return s / T(t.size());
    }
    // E_a softplus(mean b - a_i) + E_b softplus(b_j - mean a) and its gradients:
    //   d/da_i = -sigma(mean b - a_i) / na - sum_j sigma(b_j - mean a) / (na nb)
    //   d/db_j =  sigma(b_j - mean a) / nb + sum_i sigma(mean b - a_i) / (na nb)
    template <class T>
    static T objective(const gant::tensor<T>& a, const gant::tensor<T>& b, gant::tensor<T>* da, gant::tensor<T>* db) {
        const std::size_t na = a.size(), nb = b.size();
        const T ma = mean(a), mb = mean(b);
        T total = 0, sa = 0, sb = 0;
        for (std::size_t i = 0; i < na; ++i) {
            total += softplus(mb - a.data()[i]) / T(na);
            sa += sigmoid(mb - a.data()[i]);
        }
        for (std::size_t j = 0; j < nb; ++j) {
            total += softplus(b.data()[j] - ma) / T(nb);
            sb += sigmoid(b.data()[j] - ma);
        }
        if (da)
            for (std::size_t i = 0; i < na; ++i) da->data()[i] = -sigmoid(mb - a.data()[i]) / T(na) - sb / T(na * nb);
        if (db)
            for (std::size_t j = 0; j < nb; ++j) db->data()[j] = sigmoid(b.data()[j] - ma) / T(nb) + sa / T(na * nb);
        return total;
    }
};

/// R1: (gamma / 2) E ||grad_x D(x_real)||^2 on real samples only, no target norm. Per sample
/// phi(q) = (gamma / 2B) q with q = ||grad||^2; gant's input-gradient machinery turns phi' into
/// the exact gradient with respect to the critic's weights (reverse over forward).
struct r1_penalty {
    struct params {
        double gamma = 10.0;
    };
    params p;
    static constexpr const char* name = "r1";
    static constexpr bool needs_per_sample_critic = true;  // dcgan: layer_norm instead of batch_norm
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {
        gant::lipschitz::require_per_sample_second_order<Critic>();
    }
    template <class Critic, class T>
    gant::lipschitz::penalty_report penalize(Critic& critic, const gant::tensor<T>& real, const gant::tensor<T>&,
                                             gant::lipschitz::penalty_context<T>& c) {
        const double scale = p.gamma / (2.0 * double(real.shape(0)));
        return c.gradient.apply(
            critic, real, [scale](double q) { return gant::lipschitz::penalty_term{scale * q, scale}; }, c.pass);
    }
    template <class Critic>
    void after_critic_step(Critic&) {}
    static void defaults(gant::hyper_parameters& h) {  // DCGAN's Adam, as the RaGAN paper uses
        h.optimizer = gant::optimizer_kind::adam;
        h.lr_generator = h.lr_critic = 2e-4;
        h.beta1 = 0.5;
        h.beta2 = 0.999;
        h.n_critic = 1;
    }
};

using namespace gant;

using custom = gan<topology::dcgan<image<1, 28, 28>, shape<100>>,  // a built-in topology
                   relativistic_average,                              // a user-defined loss
                   r1_penalty>;                                       // a user-defined penalty

int main(int argc, char** argv) {
    return examples::run<custom>(argc, argv,
                                 {"custom_policy", "user-defined policies: relativistic average loss + R1 on DCGAN networks"});
}
