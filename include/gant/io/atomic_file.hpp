#pragma once
// Crash-safe file replacement. Every file gant writes (sample grids, IDX samples, metrics,
// checkpoints) goes through here: the bytes go to "<path>.tmp-<pid>-<random>" in the target's
// own folder, are flushed and fsync'ed, and only then renamed over the target. rename() within
// one file system is atomic, so a reader (or the next run after a crash, a full disk or an
// exception half-way through) sees either the complete old file or the complete new one, never
// a torn mix. On any failure the temporary file is removed and the target is left untouched.
//
// POSIX only (open/fsync/rename); gant targets Linux.
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gant::io {

/// A file could not be written. what() is one sentence naming the file and the reason.
class write_error : public std::runtime_error {
public:
    write_error(const std::filesystem::path& file, const std::string& problem)
        : std::runtime_error("gant: cannot write " + file.string() + ": " + problem), file_(file) {}
    const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

/// One pending replacement of `target`. Write with write(), then commit(); destroying it without a
/// successful commit() discards everything written and leaves the target as it was.
class atomic_file {
public:
    explicit atomic_file(std::filesystem::path target) : target_(std::move(target)) {
        // O_EXCL: a name that somehow exists already (another writer, a stale file) is never
        // reused; retry with a fresh random suffix instead.
        int fd = -1;
        for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
            temp_ = target_;
            temp_ += ".tmp-" + std::to_string(::getpid()) + "-" + random_suffix();
            fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd < 0 && errno != EEXIST) break;
        }
        if (fd < 0) {
            const int err = errno;
            throw write_error(target_, "cannot create a temporary file in " + folder_text() + " (" +
                                           std::strerror(err) + ")");
        }
        // Replacing a file keeps its permission bits (a user's chmod 600 survives a rewrite).
        struct stat st{};
        if (::stat(target_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) (void)::fchmod(fd, st.st_mode & 07777);
        file_ = ::fdopen(fd, "wb");
        if (!file_) {
            const int err = errno;
            ::close(fd);
            ::unlink(temp_.c_str());
            throw write_error(target_, std::string("cannot open a temporary file (") + std::strerror(err) + ")");
        }
    }

    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    ~atomic_file() { discard(); }

    /// Appends n bytes. Throws write_error (after discarding the temporary file) on failure.
    void write(const void* data, std::size_t n) {
        if (!file_) throw std::logic_error("gant: atomic_file::write after commit or failure");
        if (n == 0) return;
        if (std::fwrite(data, 1, n, file_) != n) fail("write failed", errno);
    }

    /// Makes the new content durable and visible under the target name. Throws write_error on
    /// failure; the target then still holds its old content (or still does not exist).
    void commit() {
        if (!file_) throw std::logic_error("gant: atomic_file::commit called twice or after a failure");
        if (std::fflush(file_) != 0) fail("write failed", errno);
        if (::fsync(::fileno(file_)) != 0) fail("fsync failed", errno);
        std::FILE* f = std::exchange(file_, nullptr);
        if (std::fclose(f) != 0) fail("close failed", errno);
        if (std::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot rename the temporary file over it", errno);
        committed_ = true;
        // Persist the rename itself. Some file systems refuse fsync on a folder; the data is
        // already safe then, so that is not an error.
        const int dir = ::open(folder().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            (void)::fsync(dir);
            ::close(dir);
        }
    }

    const std::filesystem::path& target() const noexcept { return target_; }
    const std::filesystem::path& temp_path() const noexcept { return temp_; }

private:
    void discard() noexcept {
        if (file_) std::fclose(std::exchange(file_, nullptr));
        if (!committed_ && !temp_.empty()) {
            ::unlink(temp_.c_str());
            temp_.clear();
        }
    }

    [[noreturn]] void fail(const char* what, int err) {
        discard();
        throw write_error(target_, std::string(what) + " (" + std::strerror(err) + ")");
    }

    std::filesystem::path folder() const {
        auto dir = target_.parent_path();
        return dir.empty() ? std::filesystem::path(".") : dir;
    }
    std::string folder_text() const { return folder().string(); }

    // Uniqueness, not secrecy: a process-wide counter and the clock, spread by splitmix64.
    static std::string random_suffix() {
        static std::atomic<std::uint64_t> counter{0};
        std::uint64_t z = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        static constexpr char hex[] = "0123456789abcdef";
        std::string s(12, '0');
        for (auto& c : s) {
            c = hex[z & 15];
            z >>= 4;
        }
        return s;
    }

    std::filesystem::path target_;
    std::filesystem::path temp_;
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

/// Replaces `target` with what `fill(atomic_file&)` writes. If fill throws, or any step of
/// writing fails, the target is untouched and no temporary file remains; the exception propagates.
template <class Fill>
void write_atomically(const std::filesystem::path& target, Fill&& fill) {
    atomic_file file(target);
    std::forward<Fill>(fill)(file);
    file.commit();
}

/// Replaces `target` with the n bytes at `data`.
inline void write_atomically(const std::filesystem::path& target, const void* data, std::size_t n) {
    write_atomically(target, [&](atomic_file& f) { f.write(data, n); });
}

/// Removes the temporary files of `target` ("<target>.tmp-<pid>-<random>") that a killed writer
/// left behind: those whose process no longer exists. A SIGKILL or a power cut during a write
/// cannot clean up (the target itself is intact, the point of the scheme), and each left-over
/// checkpoint temporary is as large as a checkpoint. Files of a live process, which may be
/// writing now, are kept; a recycled pid only keeps a stale file longer. The pid is judged on
/// this machine and in this pid namespace: a folder that writers on other hosts share (NFS) or
/// other containers write to must not be cleaned this way. Returns how many it removed; errors
/// (a folder it cannot list) are not reported: this is housekeeping.
inline std::size_t remove_stale_temporaries(const std::filesystem::path& target) {
    const std::string prefix = target.filename().string() + ".tmp-";
    std::filesystem::path folder = target.parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    std::size_t removed = 0;
    for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        // "<pid>-<random>": the pid is the digits up to the dash.
        const char* const digits = name.data() + prefix.size();
        const char* const name_end = name.data() + name.size();
        pid_t pid = 0;
        const auto [parsed, error] = std::from_chars(digits, name_end, pid);
        if (error != std::errc() || parsed == digits || parsed == name_end || *parsed != '-' || pid <= 0) continue;
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
        std::error_code remove_error;
        if (it->symlink_status(remove_error).type() == std::filesystem::file_type::regular &&
            std::filesystem::remove(it->path(), remove_error))
            ++removed;
    }
    return removed;
}

}  // namespace gant::io
