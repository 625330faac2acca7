// brook::app::run: the service command line (run, docs gen, docs serve,
// publish) and the publish command.
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "app_signal.hpp"
#include "broker_core.hpp"

namespace brook {

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
  std::vector<std::string> levels;
  std::string log_format = "text";
  double graceful_s = 10;
  auto add_common = [&](CLI::App* c) {
    c->add_option("--log-level", levels,
                  "trace|debug|info|warn|error|critical|off for every logger, or NAME=LEVEL for "
                  "one of brook, brook.access, brook.broker (repeatable, comma-separated)")
        ->envname("BROOK_LOG_LEVEL")
        ->delimiter(',')
        ->take_all();
    c->add_option("--log-format", log_format,
                  "text (time, level, channel | message id - text) or json (one object per "
                  "line with message_id, correlation_id, channel, handler, trace_id)")
        ->envname("BROOK_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}));
  };
  auto* run_cmd = cli.add_subcommand("run", "Run the service until SIGINT/SIGTERM (the default)");
  add_common(run_cmd);
  run_cmd->add_option("--threads", o.workers, "scheduler threads (0 = one per core, min 4)")
      ->envname("BROOK_THREADS");
  run_cmd
      ->add_option("--idle-polls", o.idle_polls,
                   "times an idle scheduler thread looks for work before it sleeps (more: "
                   "lower latency for a lone message, a busy core for that long after it)")
      ->envname("BROOK_IDLE_POLLS");
  std::size_t workers = 1;
  run_cmd
      ->add_option("--workers", workers,
                   "worker processes under a supervising parent (1 = this process runs it)")
      ->envname("BROOK_WORKERS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  unsigned short http_port = 0;
  long stall_s = o.stall_after.count();
  auto* http_opt = run_cmd
                       ->add_option("--http-port", http_port,
                                    "serve /health, /ready, /metrics and /docs/ on this port")
                       ->envname("BROOK_HTTP_PORT");
  run_cmd->add_option("--http-host", o.http_host, "address the HTTP endpoint binds")
      ->envname("BROOK_HTTP_HOST");
  run_cmd
      ->add_option("--health-stall", stall_s,
                   "seconds a subscriber may hold messages without finishing one before "
                   "/health fails")
      ->envname("BROOK_HEALTH_STALL");
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
  std::string level;
  for (auto& l : levels)
    level += (level.empty() ? "" : ",") + l;
  o.log_level = level.empty() ? "info" : level;
  o.log_format = log_format;
  try {
    set_log_format(log_format);
    set_log_levels(o.log_level);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  }
  if (http_opt->count() > 0)
    o.http_port = http_port;
  o.stall_after = std::chrono::seconds{stall_s};
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

  if (workers > 1 && !pub->parsed())
    return run_fleet(argc, argv, workers, o);
  // A fleet's worker ends (draining, SIGTERM is taken as a signal below) with its parent.
  if (const char* parent = std::getenv("BROOK_FLEET_PARENT"); parent && *parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (std::to_string(::getppid()) != parent)
      ::kill(::getpid(), SIGTERM);  // the parent died before the line above
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
