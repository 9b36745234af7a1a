#pragma once
// The one place gant includes xtensor. GCC 12 reports a false -Warray-bounds from inside
// xtensor's sorting helpers after inlining (see docs/concepts.md, "toolchain"); the pragma keeps
// user builds with -Werror clean without hiding warnings in gant's own code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include <xtensor/xtensor.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnoalias.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
