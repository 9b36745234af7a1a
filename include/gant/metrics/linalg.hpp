#pragma once
// Dense float64 linear algebra the metrics need beyond GEMM: the eigendecomposition of a real
// symmetric matrix (LAPACK dsyevd) and the functions built on it (the PSD square root).
//
// Why LAPACK directly: the Fréchet distance needs Tr((S_r S_g)^{1/2}) to about 1e-10 relative
// accuracy on 128x128 covariances, which only a real eigensolver gives; OpenBLAS ships LAPACK in
// the same library gant already links for BLAS (libopenblas exports dsyevd_), so no dependency is
// added. The prototype is declared here exactly as xtensor-blas's bundled FLENS headers declare
// it, so a program that includes both still compiles. LAPACK is column-major; the matrices here
// are symmetric, so the layout of the input does not matter, and the eigenvectors come back as
// the rows of the row-major result.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/blas.hpp"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info);

namespace gant::metrics::linalg {

/// Eigenvalues (ascending) of the symmetric n x n matrix `a` (row-major; only its lower triangle,
/// in row-major terms, is read). With `vectors`, `a` is overwritten so that row k holds the unit
/// eigenvector of eigenvalue k; otherwise `a` is destroyed. Throws std::runtime_error when LAPACK
/// does not converge and std::invalid_argument on a size mismatch.
inline std::vector<double> symmetric_eigen(std::vector<double>& a, std::size_t n, bool vectors = true) {
    if (a.size() != n * n)
        throw std::invalid_argument("gant: symmetric_eigen: a " + std::to_string(n) + "x" + std::to_string(n) +
                                    " matrix needs " + std::to_string(n * n) + " values, got " +
                                    std::to_string(a.size()));
    std::vector<double> w(n);
    if (n == 0) return w;
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max() / 2))
        throw std::invalid_argument("gant: symmetric_eigen: matrix too large for LAPACK");
    const char jobz = vectors ? 'V' : 'N';
    const char uplo = 'U';  // column-major upper = row-major lower
    const int dim = static_cast<int>(n);
    int info = 0;
    // Workspace query, then the real call.
    int lwork = -1, liwork = -1, iwork_size = 0;
    double work_size = 0;
    dsyevd_(&jobz, &uplo, &dim, a.data(), &dim, w.data(), &work_size, &lwork, &iwork_size, &liwork, &info);
    if (info != 0)
        throw std::runtime_error("gant: symmetric_eigen: LAPACK dsyevd workspace query failed (info " +
                                 std::to_string(info) + ")");
    lwork = static_cast<int>(work_size) + 1;
    liwork = std::max(iwork_size, 1);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_(&jobz, &uplo, &dim, a.data(), &dim, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
    if (info != 0)
        throw std::runtime_error("gant: symmetric_eigen: LAPACK dsyevd " +
                                 std::string(info < 0 ? "rejected argument " + std::to_string(-info)
                                                      : "did not converge (info " + std::to_string(info) + ")"));
    return w;
}

/// The symmetric positive semi-definite square root V diag(sqrt(max(l, 0))) V^T of the symmetric
/// n x n matrix `a`. Negative eigenvalues (round-off on a singular covariance) are clamped to 0.
inline std::vector<double> psd_sqrt(const std::vector<double>& a, std::size_t n) {
    std::vector<double> v = a;
    const std::vector<double> w = symmetric_eigen(v, n, true);
    // Scale each eigenvector (a row of v) by sqrt(sqrt(l)), then out = v^T v.
    for (std::size_t k = 0; k < n; ++k) {
        const double s = std::sqrt(std::sqrt(std::max(w[k], 0.0)));
        for (std::size_t i = 0; i < n; ++i) v[k * n + i] *= s;
    }
    std::vector<double> out(n * n);
    blas::gemm(blas::op::transpose, blas::op::none, n, n, n, 1.0, v.data(), n, v.data(), n, 0.0, out.data(), n);
    return out;
}

/// Makes the n x n matrix `a` exactly symmetric: a = (a + a^T) / 2.
inline void symmetrize(std::vector<double>& a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) {
            const double m = 0.5 * (a[i * n + j] + a[j * n + i]);
            a[i * n + j] = m;
            a[j * n + i] = m;
        }
}

}  // namespace gant::metrics::linalg
