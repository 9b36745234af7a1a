#pragma once
// The convolution layers of gant's DCGAN topologies (include/gant/topology/dcgan.hpp) as CUDA
// problems: the critics' conv2d layers and the generators' conv_transpose2d layers, for the
// 28x28 (1 channel, Fashion-MNIST) and 64x64 (3 channels, latent 100) networks.
#include <string>
#include <vector>

#include "gant/cuda/conv.hpp"

namespace gant::cuda::testing {

struct named_conv {
    std::string name;
    conv2d_problem problem;
};
struct named_conv_transpose {
    std::string name;
    conv_transpose2d_problem problem;
};

/// {batch, in_channels, in_height, in_width, out_channels, kernel_h, kernel_w, stride, padding}
inline std::vector<named_conv> dcgan_convs(int network, int batch) {
    if (network == 28)
        return {{"D28.1 conv 1->64 28->14", {batch, 1, 28, 28, 64, 4, 4, 2, 1}},
                {"D28.2 conv 64->128 14->7", {batch, 64, 14, 14, 128, 4, 4, 2, 1}}};
    return {{"D64.1 conv 3->64 64->32", {batch, 3, 64, 64, 64, 4, 4, 2, 1}},
            {"D64.2 conv 64->128 32->16", {batch, 64, 32, 32, 128, 4, 4, 2, 1}},
            {"D64.3 conv 128->256 16->8", {batch, 128, 16, 16, 256, 4, 4, 2, 1}},
            {"D64.4 conv 256->512 8->4", {batch, 256, 8, 8, 512, 4, 4, 2, 1}},
            {"D64.5 conv 512->1 4->1", {batch, 512, 4, 4, 1, 4, 4, 1, 0}}};
}

inline std::vector<named_conv_transpose> dcgan_conv_transposes(int network, int batch) {
    if (network == 28)
        return {{"G28.1 convT 128->64 7->14", {batch, 128, 7, 7, 64, 4, 4, 2, 1}},
                {"G28.2 convT 64->1 14->28", {batch, 64, 14, 14, 1, 4, 4, 2, 1}}};
    return {{"G64.1 convT 100->512 1->4", {batch, 100, 1, 1, 512, 4, 4, 1, 0}},
            {"G64.2 convT 512->256 4->8", {batch, 512, 4, 4, 256, 4, 4, 2, 1}},
            {"G64.3 convT 256->128 8->16", {batch, 256, 8, 8, 128, 4, 4, 2, 1}},
            {"G64.4 convT 128->64 16->32", {batch, 128, 16, 16, 64, 4, 4, 2, 1}},
            {"G64.5 convT 64->3 32->64", {batch, 64, 32, 32, 3, 4, 4, 2, 1}}};
}

/// Odd sizes: channel counts and images that fill no tile evenly, rectangular kernels, strides
/// larger than the kernel (backward-data phases that no tap reaches), padding as large as the
/// kernel allows, a single output channel.
inline std::vector<named_conv> odd_convs() {
    return {{"odd N3 C5 11x9 K7 3x3 s2 p1", {3, 5, 11, 9, 7, 3, 3, 2, 1}},
            {"odd N2 C3 7x10 K4 5x5 s1 p2", {2, 3, 7, 10, 4, 5, 5, 1, 2}},
            {"odd N2 C4 9x9 K6 1x1 s2 p0", {2, 4, 9, 9, 6, 1, 1, 2, 0}},
            {"odd N1 C2 5x6 K3 4x4 s3 p2", {1, 2, 5, 6, 3, 4, 4, 3, 2}},
            {"odd N3 C17 13x15 K33 3x5 s2 p1", {3, 17, 13, 15, 33, 3, 5, 2, 1}},
            {"odd N2 C6 8x8 K130 4x4 s2 p1", {2, 6, 8, 8, 130, 4, 4, 2, 1}},
            {"odd N5 C1 3x3 K1 3x3 s1 p1", {5, 1, 3, 3, 1, 3, 3, 1, 1}}};
}

inline std::vector<named_conv_transpose> odd_conv_transposes() {
    return {{"odd convT N3 C7 6x5 K5 3x3 s2 p1", {3, 7, 6, 5, 5, 3, 3, 2, 1}},
            {"odd convT N2 C5 4x7 K3 4x4 s2 p1", {2, 5, 4, 7, 3, 4, 4, 2, 1}},
            {"odd convT N2 C3 5x5 K4 5x5 s3 p1", {2, 3, 5, 5, 4, 5, 5, 3, 1}},
            {"odd convT N3 C9 1x1 K6 4x4 s1 p0", {3, 9, 1, 1, 6, 4, 4, 1, 0}}};
}

}  // namespace gant::cuda::testing
