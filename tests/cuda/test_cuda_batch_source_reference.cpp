#define BOOST_TEST_MODULE gant_cuda_batch_source_reference
#include "support/test_framework.hpp"
// The device batch source's bookkeeping (gant/cuda/batch_source.hpp) with its tables in host
// memory, against data::batch_source: the same images in the same order across epochs, the same
// state, and states exchanged both ways (support/batch_source_checks.hpp). No GPU needed.
#include <iostream>

#include "support/batch_source_checks.hpp"
#include "support/conv_reference.hpp"

using namespace gant::cuda;
using namespace gant::cuda::testing;

BOOST_AUTO_TEST_CASE(host_tables_draw_what_the_cpu_source_draws) {
    const std::size_t bad =
        batch_source_mismatches<host_memory>(host_memory{}, [](basic_batch_source<host_memory>& s, std::size_t rows) {
            std::vector<float> out(rows * s.features());
            s.next(out.data(), rows);
            return out;
        });
    BOOST_TEST(bad == 0u);
}

BOOST_AUTO_TEST_CASE(bad_states_are_refused) {
    basic_batch_source<host_memory> s(small_dataset(), gant::rng(1));
    auto st = s.state();
    st.dataset_size += 1;
    BOOST_CHECK_THROW(s.set_state(st), std::invalid_argument);
    st = s.state();
    st.position = st.dataset_size + 1;
    BOOST_CHECK_THROW(s.set_state(st), std::invalid_argument);
}

int main(int argc, char** argv) {
    std::cout << "gant CUDA batch source reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
