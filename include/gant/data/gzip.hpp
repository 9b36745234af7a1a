#pragma once
// Reading a data file that may be gzip-compressed. Debian ships the datasets gzipped, users often
// have them unpacked; the reader tells the two apart by content (the gzip magic bytes 1f 8b), not
// by the file name, so a renamed file still reads.
//
// input_file is a pull stream: callers ask for exactly the bytes they need next. That lets the
// IDX reader check a header before it allocates anything, and bounds memory by what the file
// really holds rather than by what a (possibly hostile) header claims or by a gzip bomb.
//
// Inflate is driven directly (not gzread) so that a truncated stream, a corrupt stream, a bad
// CRC and data after the last gzip member are each reported instead of being silently accepted.
// Needs zlib (-lz; the CMake target gant::io links it).
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

namespace gant::data {

/// A data file is missing, unreadable or malformed. what() is one sentence:
/// "gant: <file>: <problem>".
class format_error : public std::runtime_error {
public:
    format_error(const std::filesystem::path& file, const std::string& problem)
        : std::runtime_error("gant: " + file.string() + ": " + problem), file_(file) {}
    const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

/// A file opened for sequential reading, transparently inflated when it is gzip-compressed
/// (including multi-member gzip files, as `cat a.gz b.gz` produces).
class input_file {
public:
    explicit input_file(std::filesystem::path path) : path_(std::move(path)), in_(std::size_t{1} << 16) {
        std::error_code ec;
        if (std::filesystem::is_directory(path_, ec)) throw format_error(path_, "is a folder, not a file");
        // Non-blocking for the open only: opening a named pipe for reading otherwise waits for a
        // writer, forever when there is none (a stray FIFO hung gant_eval). Reads then block as
        // usual, and a pipe without a writer reads as empty; a pipe with one (a shell's <(...))
        // reads its data.
        const int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            throw format_error(path_, std::string("cannot open the file (") + std::strerror(err) + ")");
        }
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || !(file_ = ::fdopen(fd, "rb"))) {
            const int err = errno;
            ::close(fd);
            throw format_error(path_, std::string("cannot open the file (") + std::strerror(err) + ")");
        }
        // The size on disk bounds what a plain file can hold (see size_hint); unknown is fine.
        if (std::fseek(file_, 0, SEEK_END) == 0) {
            const long end = std::ftell(file_);
            if (end >= 0) plain_size_ = static_cast<std::uint64_t>(end);
        }
        std::rewind(file_);
        try {
            start();
        } catch (...) {
            std::fclose(file_);
            file_ = nullptr;
            throw;
        }
    }

    /// Reads a file image already in memory (fuzzers, data embedded in a program); `name` is used
    /// in messages. The bytes are borrowed: they must outlive this object.
    input_file(std::span<const std::uint8_t> bytes, std::filesystem::path name)
        : path_(std::move(name)), in_(std::size_t{1} << 16), memory_(bytes), plain_size_(bytes.size()) {
        start();
    }

    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;

    ~input_file() {
        if (inflating_) inflateEnd(&zs_);
        if (file_) std::fclose(file_);
    }

    /// Reads up to n bytes into dst and returns how many were read: fewer than n only at the end of
    /// the (decompressed) data. Throws format_error on a read error or a damaged gzip stream.
    std::size_t read(void* dst, std::size_t n) { return gzipped_ ? read_gzip(dst, n) : read_plain(dst, n); }

    /// Reads and discards up to `limit` more bytes (to the end of the data if it comes first). For a
    /// gzip file this runs the stream's integrity checks (CRC-32, length) and throws their error.
    void drain(std::uint64_t limit) {
        unsigned char scratch[4096];
        while (limit > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(limit, sizeof scratch));
            const std::size_t got = read(scratch, want);
            limit -= got;
            if (got < want) break;
        }
    }

    bool gzipped() const noexcept { return gzipped_; }
    /// An upper bound on the bytes a plain (not gzipped) file still holds, or 0 when unknown
    /// (gzip: the decompressed size is not known in advance). Lets a reader size its buffer by
    /// what exists instead of by what a header claims.
    std::uint64_t size_hint() const noexcept { return gzipped_ ? 0 : plain_size_; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    // Detects gzip by its magic bytes and starts the decoder. Throws format_error / bad_alloc.
    void start() {
        zs_.next_in = in_.data();
        zs_.avail_in = 0;
        fill_input(2);
        gzipped_ = zs_.avail_in >= 2 && zs_.next_in[0] == 0x1f && zs_.next_in[1] == 0x8b;
        if (gzipped_) {
            // 16 + MAX_WBITS: expect a gzip header and check the CRC-32 and length in its trailer.
            const int rc = inflateInit2(&zs_, 16 + MAX_WBITS);
            if (rc == Z_MEM_ERROR) throw std::bad_alloc();
            if (rc != Z_OK) throw format_error(path_, "cannot start the gzip decoder");
            inflating_ = true;
        }
    }

    // Reads up to n raw (still compressed, for gzip) bytes from the file or the memory image;
    // fewer than n only at the end. Throws format_error on a read error.
    std::size_t raw_read(unsigned char* dst, std::size_t n) {
        if (!file_) {
            const std::size_t k = std::min(n, memory_.size() - memory_at_);
            if (k) std::memcpy(dst, memory_.data() + memory_at_, k);
            memory_at_ += k;
            return k;
        }
        const std::size_t got = std::fread(dst, 1, n, file_);
        if (got < n && std::ferror(file_)) {
            const int err = errno;
            throw format_error(path_, std::string("read error (") + std::strerror(err) + ")");
        }
        return got;
    }

    // Makes at least `want` unread bytes available in the input buffer unless the file ends first;
    // returns how many are available.
    std::size_t fill_input(std::size_t want) {
        if (zs_.avail_in >= want || eof_) return zs_.avail_in;
        if (zs_.avail_in > 0 && zs_.next_in != in_.data()) std::memmove(in_.data(), zs_.next_in, zs_.avail_in);
        zs_.next_in = in_.data();
        while (zs_.avail_in < want && !eof_) {
            const std::size_t got = raw_read(in_.data() + zs_.avail_in, in_.size() - zs_.avail_in);
            zs_.avail_in += static_cast<uInt>(got);
            if (got == 0) eof_ = true;
        }
        return zs_.avail_in;
    }

    std::size_t read_plain(void* dst, std::size_t n) {
        auto* out = static_cast<unsigned char*>(dst);
        const std::size_t buffered = std::min<std::size_t>(n, zs_.avail_in);
        if (buffered) std::memcpy(out, zs_.next_in, buffered);
        zs_.next_in += buffered;
        zs_.avail_in -= static_cast<uInt>(buffered);
        std::size_t got = buffered;
        if (got < n && !eof_) {
            got += raw_read(out + got, n - got);
            if (got < n) eof_ = true;
        }
        return got;
    }

    std::size_t read_gzip(void* dst, std::size_t n) {
        auto* out = static_cast<unsigned char*>(dst);
        std::size_t got = 0;
        while (got < n) {
            if (member_done_) {
                // Another gzip member may follow; anything else after a complete stream is damage.
                if (fill_input(2) == 0) break;  // clean end of file
                if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b)
                    throw format_error(path_, "unexpected data after the end of the gzip stream");
                inflateReset(&zs_);
                member_done_ = false;
            }
            if (zs_.avail_in == 0) fill_input(1);
            zs_.next_out = out + got;
            zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - got, UINT_MAX));
            const uInt before = zs_.avail_out;
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            got += before - zs_.avail_out;
            switch (rc) {
                case Z_OK: break;
                case Z_STREAM_END: member_done_ = true; break;
                case Z_BUF_ERROR:  // no progress possible: input exhausted (refilled next turn unless at the end)
                    if (zs_.avail_in == 0 && eof_)
                        throw format_error(path_, "truncated gzip stream (the file ends before the compressed data does)");
                    if (zs_.avail_in != 0) throw format_error(path_, "corrupt gzip stream (the decoder made no progress)");
                    break;
                case Z_MEM_ERROR: throw std::bad_alloc();
                default:
                    throw format_error(path_, std::string("corrupt gzip stream (") + (zs_.msg ? zs_.msg : "invalid data") + ")");
            }
        }
        return got;
    }

    std::filesystem::path path_;
    std::vector<unsigned char> in_;
    std::FILE* file_ = nullptr;             // null when reading memory_
    std::span<const std::uint8_t> memory_;  // the in-memory image, if any
    std::size_t memory_at_ = 0;
    std::uint64_t plain_size_ = 0;          // file or image size in bytes, 0 when unknown
    z_stream zs_{};
    bool gzipped_ = false;
    bool inflating_ = false;
    bool eof_ = false;
    bool member_done_ = false;
};

}  // namespace gant::data
