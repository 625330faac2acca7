#pragma once
// Python FastStream beside a test: the venv from scripts/interop/setup_venv.sh
// (BROOK_RUN_DIR, default /tmp/brook-run), a client script run to completion, and a
// FastStream service run for one test (it prints READY once consuming; SIGTERM stops it).
// Needs BROOK_INTEROP_DIR (scripts/interop) defined by the test's CMake target.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace brook_test_support {

inline std::string python() {
  const char* run = std::getenv("BROOK_RUN_DIR");
  return std::string{run && *run ? run : "/tmp/brook-run"} + "/venv/bin/python";
}

inline std::string interop_script(const std::string& name) {
  return std::string{BROOK_INTEROP_DIR} + "/" + name;
}

/// `s` quoted for the shell.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

/// Whether the venv is there; CI (BROOK_REQUIRE_INTEROP=1) fails instead of skipping.
#define BROOK_REQUIRE_FASTSTREAM()                                             \
  do {                                                                         \
    if (!std::filesystem::exists(brook_test_support::python())) {              \
      if (std::getenv("BROOK_REQUIRE_INTEROP"))                                \
        FAIL() << "no FastStream venv at " << brook_test_support::python()     \
               << ": run scripts/interop/setup_venv.sh";                       \
      GTEST_SKIP() << "no FastStream venv at " << brook_test_support::python() \
                   << ": run scripts/interop/setup_venv.sh";                   \
    }                                                                          \
  } while (false)

/// Runs `script args` with the venv's Python; returns its stdout, fails the test on a
/// non-zero exit.
inline std::string run_python(const std::string& script, const std::string& args) {
  auto cmd = "timeout 60 " + python() + " " + interop_script(script) + " " + args;
  std::string out;
  auto* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "cannot run " << cmd;
    return out;
  }
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  auto rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}

/// A FastStream service, started for one test and stopped with SIGTERM.
class faststream_app {
public:
  faststream_app(const std::string& script,
                 const std::vector<std::pair<std::string, std::string>>& env) {
    int fds[2];
    if (::pipe(fds) != 0)
      return;
    for (auto& [k, v] : env)
      ::setenv(k.c_str(), v.c_str(), 1);
    auto py = python();
    auto app = interop_script(script);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(py.c_str(), py.c_str(), app.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~faststream_app() {
    using namespace std::chrono_literals;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
          close_out();
          return;
        }
        std::this_thread::sleep_for(50ms);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_out();
  }
  faststream_app(const faststream_app&) = delete;
  faststream_app& operator=(const faststream_app&) = delete;

  /// Waits for the app's READY line.
  bool ready(std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string seen;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      char buf[512];
      auto n = ::read(out_, buf, sizeof buf);
      if (n <= 0)
        return false;  // exited
      seen.append(buf, static_cast<std::size_t>(n));
      if (seen.find("READY") != std::string::npos)
        return true;
    }
    return false;
  }

private:
  void close_out() {
    if (out_ >= 0)
      ::close(out_);
    out_ = -1;
  }
  pid_t pid_ = -1;
  int out_ = -1;
};

}  // namespace brook_test_support
