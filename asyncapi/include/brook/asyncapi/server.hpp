#pragma once
/// @file
/// Serving an AsyncAPI document as a page rendered by the official AsyncAPI web component.
///
/// The page loads the standalone bundle of `@asyncapi/react-component` from the same server,
/// never from a CDN, so docs work offline. The bundle is installed once with
/// `scripts/asyncapi-assets.sh <dir>`; the server reads two files from it:
///
/// | URL (relative to the page)     | file under `<assets_dir>` |
/// |--------------------------------|----------------------------------------------------------------------|
/// | `asyncapi-web/index.js`        |
/// `node_modules/@asyncapi/react-component/browser/standalone/index.js` | |
/// `asyncapi-web/default.min.css` | `node_modules/@asyncapi/react-component/styles/default.min.css`
/// |
///
/// Routes: `/` (or `/index.html`) the page, `/asyncapi.json`, `/asyncapi.yaml`, and the two
/// asset URLs above. Query strings are ignored.
///
/// Standalone (what `<service> docs serve` does):
/// @code
/// brook::asyncapi::docs_server server(brook::asyncapi::generate(spec));
/// server.start();                      // port 8000 on 127.0.0.1, own thread
/// std::cout << "docs on http://127.0.0.1:" << server.port() << "/\n";
/// // ... server.stop(), or server.run() instead of start() to block
/// @endcode
/// Mounted on a service's own HTTP endpoint under `/docs/`:
/// @code
/// brook::asyncapi::docs_handler docs(brook::asyncapi::generate(spec));
/// // in the endpoint's request callback, for targets starting with "/docs/":
/// if (auto res = docs.handle(target.substr(5))) { reply(res->status, res->content_type,
/// res->body); }
/// @endcode
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace brook::asyncapi {

/// The assets directory used when none is given: the environment variable
/// `BROOK_ASYNCAPI_ASSETS` if set, else the CMake option of the same name baked in at build time
/// (default `<build>/asyncapi-assets`).
std::string default_assets_dir();

/// An HTML page that renders the document found at `json_url` (relative to the page) with the
/// AsyncAPI standalone bundle at `asyncapi-web/`. When the bundle is missing the page says how
/// to install it and links the raw JSON/YAML.
/// @code
/// std::string page = brook::asyncapi::html_page("greeter");  // fetches "asyncapi.json"
/// @endcode
std::string html_page(std::string_view title, std::string_view json_url = "asyncapi.json");

/// A reply produced by `docs_handler::handle`.
struct http_response {
  unsigned status = 200;     ///< 200, or 404 when an asset file is missing
  std::string content_type;  ///< e.g. `application/json`
  std::string body;
};

/// Answers requests for the docs routes; the transport is the caller's. The JSON, YAML and HTML
/// texts are rendered once at construction; assets are read from disk per request.
/// @warning `handle` is const and may be called from several threads at once.
class docs_handler {
public:
  /// @param doc        the document, e.g. from `generate()`
  /// @param assets_dir the directory given to `scripts/asyncapi-assets.sh`; empty means
  ///                   `default_assets_dir()`, so an unset `--assets` flag can be passed as is
  explicit docs_handler(const boost::json::value& doc, std::string assets_dir = {});

  /// The reply for `target`, a path relative to where the docs are mounted (`/`,
  /// `/asyncapi.json`, ...), or `std::nullopt` when the target is not a docs route.
  /// @code
  /// auto res = handler.handle("/asyncapi.yaml");  // res->content_type == "application/yaml"
  /// @endcode
  std::optional<http_response> handle(std::string_view target) const;

private:
  std::string assets_dir_;
  std::string json_;
  std::string yaml_;
  std::string html_;
};

/// Answers one GET or HEAD `target` (the path, query string removed); `std::nullopt` is a 404.
using http_route = std::function<std::optional<http_response>(std::string_view target)>;

/// A small HTTP/1.1 server (Boost.Beast) answering GET and HEAD through one route callback, on
/// its own thread (`start`) or the caller's (`run`). A route that throws answers 500.
/// What `<service> run --http-port` serves health, readiness and metrics with.
/// @code
/// brook::asyncapi::http_server http{[](std::string_view target)
///     -> std::optional<brook::asyncapi::http_response> {
///   if (target == "/health") return brook::asyncapi::http_response{200, "text/plain", "ok\n"};
///   return std::nullopt;  // 404
/// }, "127.0.0.1", 0};
/// http.start();  // http.port() is the bound port
/// @endcode
/// @warning One io thread, no TLS: the route must answer quickly. `stop` may be called from any
/// thread; the destructor stops the server.
class http_server {
public:
  http_server(http_route route, std::string host = "127.0.0.1", unsigned short port = 8000,
              std::string server_name = "brook");
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens, then serves on a background thread. Port 0 picks a free port.
  /// @throws boost::system::system_error when the address cannot be bound.
  void start();
  /// The bound port (after `start`/`run` began), useful with port 0.
  unsigned short port() const noexcept;
  /// Stops serving and joins the background thread; idempotent.
  void stop();
  /// Binds and serves on the calling thread until `stop` is called from elsewhere or the process
  /// gets SIGINT or SIGTERM.
  /// @throws boost::system::system_error when the address cannot be bound.
  void run();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A blocking HTTP/1.1 GET of `target` on `host:port`, giving up after `timeout`; nullopt when
/// the server cannot be reached or answers garbage. What a `--workers` fleet's parent asks its
/// workers' endpoints with.
/// @code
/// auto r = brook::asyncapi::http_get("127.0.0.1", 9000, "/ready", std::chrono::seconds{1});
/// bool ready = r && r->status == 200;
/// @endcode
std::optional<http_response> http_get(const std::string& host, unsigned short port,
                                      const std::string& target, std::chrono::milliseconds timeout);

/// POSTs `body` to `host:port` `target` (`host` an address or a name), as `http_get`: what
/// tracing exports spans to an OpenTelemetry Collector with.
/// @code
/// auto r = brook::asyncapi::http_post("127.0.0.1", 4318, "/v1/traces", json,
///                                     "application/json", std::chrono::seconds{2});
/// @endcode
std::optional<http_response> http_post(const std::string& host, unsigned short port,
                                       const std::string& target, std::string body,
                                       const std::string& content_type,
                                       std::chrono::milliseconds timeout);

/// An `http_server` for the docs routes of `docs_handler` (what `<service> docs serve` runs).
/// @warning Not for production traffic: one thread, no TLS. Bind to 127.0.0.1 unless the docs
/// may be public.
class docs_server {
public:
  /// `assets_dir` as for `docs_handler` (empty: `default_assets_dir()`).
  docs_server(boost::json::value doc, std::string assets_dir = {}, std::string host = "127.0.0.1",
              unsigned short port = 8000);

  /// As `http_server::start`, `port`, `stop` and `run`.
  void start() { server_.start(); }
  unsigned short port() const noexcept { return server_.port(); }
  void stop() { server_.stop(); }
  void run() { server_.run(); }

private:
  http_server server_;
};

}  // namespace brook::asyncapi
