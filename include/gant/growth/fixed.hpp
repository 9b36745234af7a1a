#pragma once
// The growth-schedule slot of gan<...>. fixed: the networks keep one resolution for the whole
// run. (progressive<...>, PGGAN's schedule, lives in growth/progressive.hpp.)
#include <cstddef>

namespace gant::growth {

struct fixed {
    static constexpr const char* name = "fixed";
    static constexpr bool grows = false;
};

}  // namespace gant::growth
