// `run --workers N`: a supervising parent and N worker processes of the same program. Workers
// are processes, not threads, so a crash of one cannot take the others; each runs the service
// as `run` would (same consumer groups), the parent restarts the dead ones with the shared
// backoff, drains them all on SIGTERM, and serves the fleet's health, readiness and merged
// metrics on one port.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <brook/policy.hpp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app_http.hpp"
#include "app_signal.hpp"

extern char** environ;

namespace brook {

namespace {

using clock_type = std::chrono::steady_clock;

/// One worker slot: the process in it now, and its restart history.
struct slot {
  pid_t pid = 0;
  std::uint64_t restarts = 0;
  std::deque<clock_type::time_point> recent;  ///< restarts within the intensity window
  clock_type::time_point due{};               ///< when a dead worker starts again
  std::string port_file;
  std::string last_exit;
};

/// `argv` without the options the parent keeps for itself (`--workers`, `--http-port`,
/// `--http-host`), with the worker's own endpoint on a free loopback port instead.
std::vector<std::string> worker_args(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    bool takes_value = a == "--workers" || a == "--http-port" || a == "--http-host";
    if (takes_value) {
      ++i;
      continue;
    }
    if (a.starts_with("--workers=") || a.starts_with("--http-port=") ||
        a.starts_with("--http-host="))
      continue;
    out.push_back(std::move(a));
  }
  bool has_run = false;
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] == "run")
      has_run = true;
  if (!has_run)
    out.insert(out.begin() + 1, "run");
  for (auto* extra : {"--http-port", "0", "--http-host", "127.0.0.1"})
    out.emplace_back(extra);
  return out;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string{"signal "} + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "status " + std::to_string(status);
}

/// Prometheus texts of several workers as one: each family's HELP and TYPE once, every
/// sample with a `worker` label.
std::string merge_metrics(const std::vector<std::pair<std::size_t, std::string>>& texts) {
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> families;
  for (auto& [index, text] : texts) {
    std::istringstream in{text};
    std::string line, family;
    auto label = "worker=\"" + std::to_string(index) + "\"";
    while (std::getline(in, line)) {
      if (line.empty())
        continue;
      if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
        auto rest = line.substr(7);
        family = rest.substr(0, rest.find(' '));
        auto [it, fresh] = families.try_emplace(family);
        if (fresh)
          order.push_back(family);
        if (it->second.first.find(line.substr(0, 7)) == std::string::npos)
          it->second.first += line + "\n";
        continue;
      }
      if (line[0] == '#')
        continue;
      auto brace = line.find('{');
      auto space = line.find(' ');
      std::string sample = brace != std::string::npos && brace < space
                               ? line.substr(0, brace + 1) + label + "," + line.substr(brace + 1)
                               : line.substr(0, space) + "{" + label + "}" + line.substr(space);
      if (auto pos = sample.find(",}"); pos != std::string::npos)
        sample.erase(pos, 1);
      auto [it, fresh] = families.try_emplace(family);
      if (fresh)
        order.push_back(family);
      it->second.second.push_back(std::move(sample));
    }
  }
  std::string out;
  for (auto& name : order) {
    auto& [head, samples] = families[name];
    out += head;
    for (auto& s : samples)
      out += s + "\n";
  }
  return out;
}

unsigned short read_port(const std::string& file) {
  std::ifstream f{file};
  unsigned port = 0;
  f >> port;
  return static_cast<unsigned short>(port);
}

}  // namespace

int app::run_fleet(int argc, char** argv, std::size_t workers, const run_options& o) {
  auto log = default_logger();
  log->set_level(spdlog::level::from_str(o.log_level));
  char tmpl[] = "/tmp/brook-fleet-XXXXXX";
  if (!mkdtemp(tmpl)) {
    log->critical("--workers: cannot make a directory under /tmp: {}", std::strerror(errno));
    return 1;
  }
  std::string dir = tmpl;
  auto args = worker_args(argc, argv);
  std::string self_exe = "/proc/self/exe";
  // The same restart policy a subscriber has: at most `max_restarts` per `window` per slot.
  restart_policy policy{};
  std::mutex mtx;  // guards `slots` against the HTTP thread
  std::vector<slot> slots(workers);
  for (std::size_t i = 0; i < workers; ++i)
    slots[i].port_file = dir + "/w" + std::to_string(i) + ".port";
  bool gave_up = false;
  std::string gave_up_why;

  auto spawn_worker = [&](std::size_t i) {
    auto& s = slots[i];
    std::filesystem::remove(s.port_file);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string_view kv{*e};
      // The parent's own options must not reach a worker through the environment.
      if (kv.starts_with("BROOK_WORKERS=") || kv.starts_with("BROOK_HTTP_PORT=") ||
          kv.starts_with("BROOK_HTTP_HOST=") || kv.starts_with("BROOK_WORKER_INDEX=") ||
          kv.starts_with("BROOK_WORKER_PORT_FILE=") || kv.starts_with("BROOK_FLEET_PARENT="))
        continue;
      env.emplace_back(kv);
    }
    env.push_back("BROOK_WORKER_INDEX=" + std::to_string(i));
    env.push_back("BROOK_FLEET_PARENT=" + std::to_string(getpid()));
    env.push_back("BROOK_WORKER_PORT_FILE=" + s.port_file);
    std::vector<char*> cargv, cenv;
    for (auto& a : args)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env)
      cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_t pid = 0;
    if (int rc = posix_spawn(&pid, self_exe.c_str(), nullptr, nullptr, cargv.data(), cenv.data());
        rc != 0) {
      log->error("worker {}: cannot start: {}", i, std::strerror(rc));
      s.pid = 0;
      s.due = clock_type::now() + policy.backoff.delay(s.recent.size() + 1, detail::random01());
      return;
    }
    s.pid = pid;
    log->info("worker {} started (pid {})", i, pid);
  };

  // The HTTP routes outlive this block: what they call lives as long as the loop below.
  // The workers' endpoints that have reported their port, and whether every slot has one.
  auto worker_ports = [&] {
    std::vector<std::pair<std::size_t, unsigned short>> ports;
    bool all_running = true;
    std::lock_guard lock{mtx};
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto port = slots[i].pid ? read_port(slots[i].port_file) : 0;
      all_running = all_running && slots[i].pid && port;
      if (port)
        ports.emplace_back(i, port);
    }
    return std::pair{ports, all_running};
  };
  auto ask = [](const std::vector<std::pair<std::size_t, unsigned short>>& ports,
                const std::string& path) {
    std::vector<std::pair<std::size_t, std::optional<asyncapi::http_response>>> out;
    for (auto [i, port] : ports)
      out.emplace_back(i, asyncapi::http_get("127.0.0.1", port, path, std::chrono::seconds{2}));
    return out;
  };
  std::unique_ptr<asyncapi::http_server> http;
  if (o.http_port) {
    detail::endpoint_routes routes;
    routes.health = [&] {
      std::lock_guard lock{mtx};
      if (gave_up)
        return detail::json_reply(503, {{"status", "unhealthy"}, {"reason", gave_up_why}});
      return detail::json_reply(200, {{"status", "ok"}, {"workers", slots.size()}});
    };
    routes.ready = [&] {
      auto [ports, ready] = worker_ports();
      std::map<std::size_t, bool> answered;
      for (auto& [i, r] : ask(ports, "/ready")) {
        answered[i] = r && r->status == 200;
        ready = ready && answered[i];
      }
      boost::json::array ws;
      std::lock_guard lock{mtx};
      for (std::size_t i = 0; i < slots.size(); ++i)
        ws.push_back(boost::json::object{{"worker", i},
                                         {"pid", slots[i].pid},
                                         {"restarts", slots[i].restarts},
                                         {"ready", answered.count(i) && answered[i]}});
      return detail::json_reply(ready ? 200 : 503, {{"status", ready ? "ready" : "not ready"},
                                                    {"workers", std::move(ws)}});
    };
    routes.metrics = [&] {
      std::vector<std::pair<std::size_t, std::string>> texts;
      for (auto& [i, r] : ask(worker_ports().first, "/metrics"))
        if (r && r->status == 200)
          texts.emplace_back(i, std::move(r->body));
      std::string own =
          "# HELP brook_fleet_workers_up Worker processes running\n"
          "# TYPE brook_fleet_workers_up gauge\n";
      std::string restarts =
          "# HELP brook_fleet_restarts_total Worker processes restarted after dying\n"
          "# TYPE brook_fleet_restarts_total counter\n";
      {
        std::lock_guard lock{mtx};
        std::size_t up = 0;
        for (std::size_t i = 0; i < slots.size(); ++i) {
          up += slots[i].pid ? 1 : 0;
          restarts += "brook_fleet_restarts_total{app_name=\"" + info_.title + "\",worker=\"" +
                      std::to_string(i) + "\"} " + std::to_string(slots[i].restarts) + "\n";
        }
        own +=
            "brook_fleet_workers_up{app_name=\"" + info_.title + "\"} " + std::to_string(up) + "\n";
      }
      return asyncapi::http_response{200, "text/plain; version=0.0.4; charset=utf-8",
                                     merge_metrics(texts) + own + restarts};
    };
    auto route = detail::make_endpoint_route(
        std::move(routes),
        std::make_shared<const asyncapi::docs_handler>(asyncapi::generate(describe())));
    http = std::make_unique<asyncapi::http_server>(route, o.http_host, *o.http_port, "brook");
    try {
      http->start();
    } catch (const std::exception& e) {
      log->critical("the HTTP endpoint cannot listen on {}:{}: {} (choose another --http-port)",
                    o.http_host, *o.http_port, e.what());
      return 1;
    }
    log->info("fleet HTTP endpoint on http://{}:{}/ (/health, /ready, /metrics, /docs/)",
              o.http_host, http->port());
  }

  {
    std::lock_guard lock{mtx};
    for (std::size_t i = 0; i < workers; ++i)
      spawn_worker(i);
  }
  log->info("{} {}: {} workers under pid {}", info_.title, info_.version, workers, getpid());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec tick{0, 50'000'000};
  bool stopping = false;
  while (!stopping) {
    siginfo_t si;
    if (sigtimedwait(&set, &si, &tick) > 0) {
      log->info("received signal {}, draining {} workers", si.si_signo, workers);
      break;
    }
    std::lock_guard lock{mtx};
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (std::size_t i = 0; i < slots.size(); ++i) {
        auto& s = slots[i];
        if (s.pid != pid)
          continue;
        s.pid = 0;
        s.last_exit = describe_exit(status);
        auto now = clock_type::now();
        while (!s.recent.empty() && now - s.recent.front() > policy.window)
          s.recent.pop_front();
        if (s.recent.size() >= policy.max_restarts) {
          gave_up = true;
          gave_up_why = "worker " + std::to_string(i) + " died " +
                        std::to_string(s.recent.size() + 1) + " times within " +
                        std::to_string(policy.window.count()) + " ms (last: " + s.last_exit + ")";
          log->critical("{}; giving up", gave_up_why);
          stopping = true;
          break;
        }
        s.recent.push_back(now);
        auto delay = policy.backoff.delay(s.recent.size(), detail::random01());
        s.due = now + delay;
        log->error("worker {} (pid {}) died: {}; restarting in {} ms", i, pid, s.last_exit,
                   delay.count());
      }
    }
    if (stopping)
      break;
    auto now = clock_type::now();
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (!slots[i].pid && now >= slots[i].due) {
        ++slots[i].restarts;
        spawn_worker(i);
      }
  }

  // Drain: every worker gets SIGTERM and its graceful timeout (plus its start-up and close).
  {
    std::lock_guard lock{mtx};
    for (auto& s : slots)
      if (s.pid)
        kill(s.pid, SIGTERM);
  }
  auto deadline = clock_type::now() + o.graceful_timeout + std::chrono::seconds{5};
  bool clean = true;
  for (;;) {
    std::size_t left = 0;
    {
      std::lock_guard lock{mtx};
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (auto& s : slots)
          if (s.pid == pid) {
            s.pid = 0;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
              clean = false;
              log->warn("worker (pid {}) ended with {}", pid, describe_exit(status));
            }
          }
      for (auto& s : slots)
        left += s.pid ? 1 : 0;
    }
    if (left == 0)
      break;
    if (clock_type::now() >= deadline) {
      std::lock_guard lock{mtx};
      for (auto& s : slots)
        if (s.pid) {
          log->error("worker pid {} did not drain within --graceful-timeout; killed", s.pid);
          kill(s.pid, SIGKILL);
          waitpid(s.pid, nullptr, 0);
          s.pid = 0;
          clean = false;
        }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  if (http)
    http->stop();
  std::filesystem::remove_all(dir);
  log->info("{} stopped ({} workers)", info_.title, workers);
  if (gave_up)
    return 70;  // EX_SOFTWARE, as a single service whose supervision gave up
  return clean ? 0 : 1;
}

}  // namespace brook
