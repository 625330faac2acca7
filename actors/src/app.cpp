// brook::app: lifecycle, signals, the service command line and the AsyncAPI
// description of the service.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <caf/actor.hpp>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>

#include "broker_core.hpp"

namespace brook {

struct app::shutdown_signal {
  std::mutex mtx;
  std::condition_variable cv;
  bool requested = false;
  bool use_signals = false;
  std::atomic<bool> running{false};
  std::atomic<bool> ready{false};
  std::atomic<int> exit_code{0};
};

app::app(broker& b, app_info info)
    : app(std::vector<std::reference_wrapper<broker>>{b}, std::move(info)) {}

app::app(std::vector<std::reference_wrapper<broker>> brokers, app_info info)
    : info_(std::move(info)),
      brokers_(std::move(brokers)),
      deps_(std::make_shared<dependency_registry>()),
      signal_(std::make_shared<shutdown_signal>()) {
  for (auto& b : brokers_)
    b.get().core()->app_id = info_.title;
}

app::app(caf::actor_system& sys, broker& b, app_info info)
    : app(sys, std::vector<std::reference_wrapper<broker>>{b}, std::move(info)) {}

app::app(caf::actor_system& sys, std::vector<std::reference_wrapper<broker>> brokers, app_info info)
    : app(std::move(brokers), std::move(info)) {
  external_ = &sys;
}

caf::actor app::supervisor() const {
  return rt_ ? rt_->supervisor() : caf::actor{};
}

app::~app() {
  stop();
}

app& app::on_startup(std::function<void()> f) {
  on_startup_.push_back(std::move(f));
  return *this;
}
app& app::after_startup(std::function<void()> f) {
  after_startup_.push_back(std::move(f));
  return *this;
}
app& app::on_shutdown(std::function<void()> f) {
  on_shutdown_.push_back(std::move(f));
  return *this;
}
app& app::after_shutdown(std::function<void()> f) {
  after_shutdown_.push_back(std::move(f));
  return *this;
}
app& app::middleware(middleware_ptr m) {
  mws_.push_back(std::move(m));
  return *this;
}

bool app::running() const noexcept {
  return signal_->running;
}
bool app::ready() const noexcept {
  return signal_->ready && rt_ && rt_->subscriptions_ready();
}

std::vector<detail::subscriber_snapshot> app::stats() const {
  return rt_ ? rt_->stats() : final_stats_;
}

std::vector<detail::connection_snapshot> app::connections() const {
  return rt_ ? rt_->connections() : final_connections_;
}

void app::start(run_options o) {
  if (signal_->running)
    return;
  opts_ = o;
  auto level = spdlog::level::from_str(o.log_level);
  default_logger()->set_level(level);
  for (auto& f : on_startup_)
    f();
  rt_ = external_ ? std::make_unique<detail::runtime>(*external_)
                  : std::make_unique<detail::runtime>(o.workers);
  rt_->set_drain_budget(o.graceful_timeout);
  auto sig = signal_;
  rt_->on_escalation([sig](std::string) {
    sig->ready = false;
    sig->exit_code = 70;  // EX_SOFTWARE: a supervisor gave up
    std::lock_guard lock{sig->mtx};
    sig->requested = true;
    sig->cv.notify_all();
  });
  try {
    for (auto& b : brokers_)
      rt_->start_broker(b.get(), mws_, deps_);
  } catch (...) {
    rt_->stop(std::chrono::milliseconds{0});
    rt_.reset();
    throw;
  }
  signal_->running = true;
  signal_->ready = true;
  for (auto& f : after_startup_)
    f();
  default_logger()->info("{} {} started", info_.title, info_.version);
}

void app::request_stop() {
  std::lock_guard lock{signal_->mtx};
  signal_->requested = true;
  signal_->cv.notify_all();
}

namespace {
std::atomic<bool> signals_blocked{false};
}  // namespace

void app::block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signals_blocked = true;
}

int app::wait_for_shutdown() {
  auto& s = *signal_;
  if (s.use_signals || signals_blocked) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec tick{0, 100'000'000};
    for (;;) {
      {
        std::lock_guard lock{s.mtx};
        if (s.requested)
          break;
      }
      siginfo_t si;
      if (sigtimedwait(&set, &si, &tick) > 0) {
        default_logger()->info("received signal {}, draining", si.si_signo);
        break;
      }
    }
  } else {
    std::unique_lock lock{s.mtx};
    s.cv.wait(lock, [&] { return s.requested; });
  }
  return s.exit_code;
}

void app::stop() {
  if (!signal_->running.exchange(false))
    return;
  signal_->ready = false;
  for (auto& f : on_shutdown_)
    f();
  if (!rt_->stop(opts_.graceful_timeout))
    default_logger()->warn(
        "graceful timeout of {} ms passed with messages still in flight; "
        "those with acks were returned to their broker, the others are "
        "counted as dropped (stopped) in stats()",
        opts_.graceful_timeout.count());
  final_stats_ = rt_->stats();
  final_connections_ = rt_->connections();
  rt_.reset();
  for (auto& f : after_shutdown_)
    f();
  default_logger()->info("{} stopped", info_.title);
}

asyncapi::service_spec app::describe() const {
  asyncapi::service_spec s;
  s.info.identifier = info_.identifier;
  s.info.title = info_.title;
  s.info.version = info_.version;
  s.info.description = info_.description;
  s.info.contact_name = info_.contact_name;
  s.info.contact_url = info_.contact_url;
  s.info.contact_email = info_.contact_email;
  s.info.license_name = info_.license_name;
  s.info.license_url = info_.license_url;
  s.info.tags = info_.tags;
  codec::schema_registry schemas{"#/components/schemas/"};
  // One schema, or oneOf the distinct ones; FastStream names unnamed payloads
  // after the endpoint, so payload_name stays empty (struct bodies are $refs).
  auto payload_of = [](std::vector<boost::json::value> xs) -> boost::json::value {
    std::vector<boost::json::value> unique;
    for (auto& v : xs)
      if (std::find(unique.begin(), unique.end(), v) == unique.end())
        unique.push_back(std::move(v));
    if (unique.empty())
      return boost::json::object{};
    if (unique.size() == 1)
      return std::move(unique.front());
    return boost::json::object{{"oneOf", boost::json::array(unique.begin(), unique.end())}};
  };
  auto server_name = [&](std::size_t i) {
    return brokers_.size() == 1 ? std::string{"development"} : "development-" + std::to_string(i);
  };
  // Pass 1: what handlers return, per publisher, across every broker.
  std::map<const detail::publisher_decl*, std::vector<boost::json::value>> results;
  for (auto& bref : brokers_)
    for (auto& d : bref.get().subscriber_decls())
      for (auto& h : d->handlers)
        if (auto& info = h.handler->info(); info.result_schema)
          for (auto& p : d->publishers)
            results[p.get()].push_back(info.result_schema(schemas));
  // Pass 2: servers, subscribers, then publishers (merged per channel).
  for (std::size_t n = 0; n < brokers_.size(); ++n) {
    auto& b = brokers_[n].get();
    auto server = b.server();
    server.name = server_name(n);
    s.servers.push_back(server);
    for (auto& d : b.subscriber_decls()) {
      asyncapi::operation_spec op;
      op.kind = asyncapi::operation_kind::subscribe;
      op.servers = {server.name};
      op.address = d->spec.address;
      op.handler_name = d->name;
      op.title = d->title;
      op.description = d->description;
      op.include_in_schema = d->include_in_schema;
      op.bindings = b.bindings(*d);
      for (auto& [k, v] : d->bindings)
        op.bindings[k] = v;
      std::vector<boost::json::value> bodies;
      std::set<std::string> header_names;
      for (auto& h : d->handlers) {
        auto& info = h.handler->info();
        if (info.body_schema)
          bodies.push_back(info.body_schema(schemas));
        header_names.insert(info.header_names.begin(), info.header_names.end());
      }
      op.payload = payload_of(std::move(bodies));
      if (!header_names.empty()) {
        boost::json::object props;
        for (auto& h : header_names)
          props[h] = boost::json::object{{"type", "string"}};
        op.headers = boost::json::object{{"type", "object"}, {"properties", props}};
      }
      s.operations.push_back(std::move(op));
    }
    std::map<std::string, std::size_t> by_channel;  // several decls may share an address
    std::map<std::size_t, std::vector<boost::json::value>> payloads;
    for (auto& p : b.publisher_decls()) {
      auto key = p->title.empty() ? p->address : p->title;
      auto [it, fresh] = by_channel.emplace(key, s.operations.size());
      if (fresh) {
        asyncapi::operation_spec op;
        op.kind = asyncapi::operation_kind::publish;
        op.servers = {server.name};
        op.address = p->address;
        op.title = p->title;
        op.description = p->description;
        op.include_in_schema = p->include_in_schema;
        op.bindings = b.bindings(*p);
        s.operations.push_back(std::move(op));
      }
      auto& op = s.operations[it->second];
      for (auto& [k, v] : p->bindings)
        op.bindings[k] = v;
      if (op.description.empty())
        op.description = p->description;
      // An explicitly declared payload replaces what the handlers' return types imply.
      auto& xs = payloads[it->second];
      if (!p->schemas.empty())
        for (auto& f : p->schemas)
          xs.push_back(f(schemas));
      else
        for (auto& v : results[p.get()])
          xs.push_back(v);
    }
    for (auto& [idx, xs] : payloads)
      s.operations[idx].payload = payload_of(std::move(xs));
  }
  s.schemas = schemas.definitions();
  return s;
}

int app::cmd_publish(const std::string& channel, const std::string& body, bool request,
                     double timeout_s, const std::vector<std::string>& headers) {
  auto& b = brokers_.front().get();
  outgoing m;
  m.channel = channel;
  m.body = body;
  // JSON goes out as JSON; anything else as text, like FastStream's CLI.
  boost::system::error_code ec;
  boost::json::parse(body, ec);
  m.content_type = ec ? "text/plain" : "application/json";
  for (auto& h : headers) {
    auto eq = h.find('=');
    if (eq == std::string::npos) {
      std::cerr << "error: header '" << h << "' must be key=value\n";
      return 2;
    }
    m.headers.set(h.substr(0, eq), h.substr(eq + 1));
  }
  try {
    if (request) {
      auto reply = b.request_raw(std::move(m),
                                 std::chrono::milliseconds{static_cast<long>(timeout_s * 1000)});
      std::cout << reply->body << std::endl;
    } else if (auto err = detail::publish_now(b.core(), std::move(m))) {
      std::cerr << "error: publish to '" << channel << "' failed: " << err.to_string() << '\n';
      return 1;
    }
  } catch (const request_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

int app::run(int argc, char** argv) {
  CLI::App cli{info_.description.empty() ? info_.title : info_.title + " - " + info_.description};
  cli.set_version_flag("--version", info_.title + " " + info_.version + " (brook)");
  cli.require_subcommand(0, 1);
  run_options o;
  std::string level = "info";
  double graceful_s = 10;
  auto add_common = [&](CLI::App* c) {
    c->add_option("--log-level", level, "trace|debug|info|warn|error|critical|off")
        ->envname("BROOK_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  };
  auto* run_cmd = cli.add_subcommand("run", "Run the service until SIGINT/SIGTERM (the default)");
  add_common(run_cmd);
  run_cmd->add_option("--workers", o.workers, "scheduler threads (0 = one per core, min 4)")
      ->envname("BROOK_WORKERS");
  run_cmd
      ->add_option("--graceful-timeout", graceful_s, "seconds to drain in-flight messages on stop")
      ->envname("BROOK_GRACEFUL_TIMEOUT");
  run_cmd->set_config("--config", "", "read options from a TOML/INI file");

  auto* docs = cli.add_subcommand("docs", "AsyncAPI documentation");
  docs->require_subcommand(1);
  auto* gen = docs->add_subcommand("gen", "Write the AsyncAPI document");
  std::string format = "json", out, version = "3.0.0";
  gen->add_option("--format", format, "json|yaml")->check(CLI::IsMember({"json", "yaml"}));
  gen->add_option("--out", out, "file to write (default: stdout)");
  gen->add_option("--asyncapi", version, "3.0.0|2.6.0")->check(CLI::IsMember({"3.0.0", "2.6.0"}));
  auto* serve = docs->add_subcommand("serve", "Serve the AsyncAPI page");
  unsigned short port = 8000;
  std::string host = "127.0.0.1", assets;
  serve->add_option("--port", port, "HTTP port");
  serve->add_option("--host", host, "address to bind");
  serve->add_option("--assets", assets, "directory of the AsyncAPI web component")
      ->envname("BROOK_ASYNCAPI_ASSETS");
  serve->add_option("--asyncapi", version, "3.0.0|2.6.0")->check(CLI::IsMember({"3.0.0", "2.6.0"}));

  auto* pub = cli.add_subcommand(
      "publish", "Publish one message (starts the service too on the in-memory broker)");
  add_common(pub);
  std::string channel, body;
  bool request = false;
  double timeout_s = 5;
  std::vector<std::string> headers;
  pub->add_option("channel", channel, "destination")->required();
  pub->add_option("body", body, "message body (JSON or text)")->required();
  pub->add_flag("--request", request, "wait for the reply and print it");
  pub->add_option("--timeout", timeout_s, "seconds to wait for a reply");
  pub->add_option("-H,--header", headers, "header key=value (repeatable)");
  add_common(&cli);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  o.log_level = level;
  o.graceful_timeout = std::chrono::milliseconds{static_cast<long>(graceful_s * 1000)};

  if (gen->parsed() || serve->parsed()) {
    auto v = version == "2.6.0" ? asyncapi::spec_version::v2_6_0 : asyncapi::spec_version::v3_0_0;
    auto doc = asyncapi::generate(describe(), v);
    if (serve->parsed()) {
      asyncapi::docs_server server{doc, assets, host, port};
      server.start();
      std::cout << "serving AsyncAPI docs on http://" << host << ":" << server.port() << "/"
                << std::endl;
      block_shutdown_signals();
      signal_->use_signals = true;
      wait_for_shutdown();
      server.stop();
      return 0;
    }
    auto text = format == "yaml" ? asyncapi::to_yaml(doc) : asyncapi::to_json_text(doc);
    if (out.empty()) {
      std::cout << text;
    } else {
      std::ofstream f{out};
      f << text;
      if (!f) {
        std::cerr << "error: cannot write '" << out << "'\n";
        return 1;
      }
    }
    return 0;
  }

  // Signals are taken by sigtimedwait on this thread only: block them before
  // the actor system's threads exist, so they inherit the mask.
  block_shutdown_signals();
  signal_->use_signals = true;

  if (pub->parsed()) {
    bool in_process = brokers_.front().get().protocol() == "memory";
    if (in_process) {
      start(o);
    } else {
      default_logger()->set_level(spdlog::level::from_str(level));
      if (auto err = brokers_.front().get().core()->get_transport()->start()) {
        std::cerr << "error: " << err.to_string() << '\n';
        return 1;
      }
    }
    int rc = cmd_publish(channel, body, request, timeout_s, headers);
    if (in_process)
      stop();
    else
      brokers_.front().get().core()->get_transport()->close();
    return rc;
  }

  try {
    start(o);
  } catch (const std::exception& e) {
    default_logger()->critical("start failed: {}", e.what());
    return 1;
  }
  int rc = wait_for_shutdown();
  stop();
  return rc;
}

}  // namespace brook
