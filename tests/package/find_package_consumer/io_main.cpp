// gant::io carries zlib and libstb: both must compile and link through the installed package.
#include <stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <vector>

int main() {
    const unsigned char pixels[4] = {0, 85, 170, 255};
    std::vector<unsigned char> png;
    const int ok = stbi_write_png_to_func(
        [](void* context, void* data, int size) {
            auto* out = static_cast<std::vector<unsigned char>*>(context);
            out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
        },
        &png, 2, 2, 1, pixels, 2);
    const bool png_ok = ok != 0 && png.size() > 8 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G';
    const bool zlib_ok = std::string(zlibVersion()).size() > 0;
    std::printf("find_package consumer (io): zlib %s, png of %zu bytes\n", zlibVersion(), png.size());
    return png_ok && zlib_ok ? 0 : 1;
}
