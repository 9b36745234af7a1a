#define BOOST_TEST_MODULE gant_atomic_file
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gant/io/atomic_file.hpp"

namespace fs = std::filesystem;
using gant::io::atomic_file;
using gant::io::write_atomically;
using gant::io::write_error;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "gant-atomic-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
}

bool one_sentence(const std::string& s) { return s.find('\n') == std::string::npos && s.find(". ") == std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(writes_a_new_file_and_leaves_nothing_else) {
    temp_dir d;
    const fs::path target = d.path / "out.bin";
    const std::string text = "hello, gant";
    write_atomically(target, text.data(), text.size());
    BOOST_TEST(slurp(target) == text);
    BOOST_TEST(names_in(d.path) == std::vector<std::string>{"out.bin"});
}

BOOST_AUTO_TEST_CASE(overwrites_and_keeps_permissions) {
    temp_dir d;
    const fs::path target = d.path / "out.txt";
    put(target, "old content that is longer than the new one");
    ::chmod(target.c_str(), 0640);
    write_atomically(target, [](atomic_file& f) {
        f.write("new", 3);
        f.write(" bytes", 6);
    });
    BOOST_TEST(slurp(target) == "new bytes");
    struct stat st{};
    BOOST_REQUIRE(::stat(target.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u);
    BOOST_TEST(names_in(d.path).size() == 1u);
}

BOOST_AUTO_TEST_CASE(temp_file_lives_beside_the_target_until_commit) {
    temp_dir d;
    const fs::path target = d.path / "t.bin";
    atomic_file f(target);
    BOOST_TEST(f.temp_path().parent_path() == d.path);
    BOOST_TEST(f.temp_path().filename().string().rfind("t.bin.tmp-", 0) == 0u);
    f.write("abc", 3);
    BOOST_TEST(fs::exists(f.temp_path()));
    BOOST_TEST(!fs::exists(target));  // nothing visible before commit
    f.commit();
    BOOST_TEST(slurp(target) == "abc");
    BOOST_TEST(names_in(d.path).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_writer_that_throws_midway_leaves_the_old_file) {
    temp_dir d;
    const fs::path target = d.path / "model.ckpt";
    put(target, "precious old checkpoint");
    BOOST_CHECK_THROW(write_atomically(target,
                                       [](atomic_file& f) {
                                           f.write("half of the new", 15);
                                           throw std::runtime_error("simulated crash while writing");
                                       }),
                      std::runtime_error);
    BOOST_TEST(slurp(target) == "precious old checkpoint");
    BOOST_TEST(names_in(d.path) == std::vector<std::string>{"model.ckpt"});
}

BOOST_AUTO_TEST_CASE(abandoned_without_commit_removes_the_temp_file) {
    temp_dir d;
    const fs::path target = d.path / "x";
    {
        atomic_file f(target);
        f.write("zzz", 3);
    }
    BOOST_TEST(names_in(d.path).empty());
}

BOOST_AUTO_TEST_CASE(missing_folder_gives_one_sentence_naming_the_file) {
    temp_dir d;
    const fs::path target = d.path / "no" / "such" / "dir" / "grid.png";
    try {
        write_atomically(target, "x", 1);
        BOOST_FAIL("expected write_error");
    } catch (const write_error& e) {
        const std::string what = e.what();
        BOOST_TEST_MESSAGE(what);
        BOOST_TEST(what.rfind("gant: cannot write " + target.string() + ": ", 0) == 0u);
        BOOST_TEST(what.find("No such file or directory") != std::string::npos);
        BOOST_TEST(one_sentence(what));
        BOOST_TEST(e.file() == target);
    }
    BOOST_TEST(names_in(d.path).empty());
}

BOOST_AUTO_TEST_CASE(failing_rename_removes_the_temp_file) {
    // The target is a non-empty folder: the temporary file is created and written, then rename fails.
    temp_dir d;
    const fs::path target = d.path / "occupied";
    fs::create_directory(target);
    put(target / "inside", "keep");
    try {
        write_atomically(target, "payload", 7);
        BOOST_FAIL("expected write_error");
    } catch (const write_error& e) {
        BOOST_TEST_MESSAGE(e.what());
        BOOST_TEST(std::string(e.what()).find("rename") != std::string::npos);
        BOOST_TEST(one_sentence(e.what()));
    }
    BOOST_TEST(names_in(d.path) == std::vector<std::string>{"occupied"});
    BOOST_TEST(slurp(target / "inside") == "keep");
}

BOOST_AUTO_TEST_CASE(concurrent_writers_use_distinct_temp_names) {
    temp_dir d;
    const fs::path target = d.path / "same";
    atomic_file a(target), b(target);
    BOOST_TEST(a.temp_path() != b.temp_path());
    a.write("A", 1);
    b.write("B", 1);
    a.commit();
    b.commit();
    BOOST_TEST(slurp(target) == "B");  // last rename wins, whole
    BOOST_TEST(names_in(d.path).size() == 1u);
}

BOOST_AUTO_TEST_CASE(misuse_after_commit_is_reported) {
    temp_dir d;
    atomic_file f(d.path / "m");
    f.commit();
    BOOST_CHECK_THROW(f.write("x", 1), std::logic_error);
    BOOST_CHECK_THROW(f.commit(), std::logic_error);
    BOOST_TEST(fs::file_size(d.path / "m") == 0u);
}

// A killed writer's temporary file (its process gone) is removed; a live process's (this one's,
// possibly mid-write), other targets' and unrelated files are kept.
BOOST_AUTO_TEST_CASE(stale_temporaries_of_dead_writers_are_removed) {
    temp_dir d;
    const fs::path target = d.path / "checkpoint.gant";
    put(target, "the good checkpoint");
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);  // reaped: no process has this pid now
    const std::string dead = "checkpoint.gant.tmp-" + std::to_string(child) + "-a1b2c3";
    const std::string alive = "checkpoint.gant.tmp-" + std::to_string(::getpid()) + "-d4e5f6";
    for (const std::string& name :
         {dead, alive, std::string("grid.png.tmp-") + std::to_string(child) + "-0",
          std::string("checkpoint.gant.tmp-x1-0"), std::string("checkpoint.gant.tmp--0"), std::string("notes.txt")})
        put(d.path / name, "partial");
    BOOST_TEST(gant::io::remove_stale_temporaries(target) == 1u);
    auto names = names_in(d.path);
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected{"checkpoint.gant",
                                      alive,
                                      "checkpoint.gant.tmp--0",
                                      "checkpoint.gant.tmp-x1-0",
                                      std::string("grid.png.tmp-") + std::to_string(child) + "-0",
                                      "notes.txt"};
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(names == expected, boost::test_tools::per_element());
    BOOST_TEST(slurp(target) == "the good checkpoint");
    BOOST_TEST(gant::io::remove_stale_temporaries(d.path / "missing" / "x.gant") == 0u);  // no folder: nothing
}
