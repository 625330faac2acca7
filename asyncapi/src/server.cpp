#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <brook/asyncapi/generator.hpp>
#include <brook/asyncapi/server.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#ifndef BROOK_ASYNCAPI_ASSETS_DIR
#define BROOK_ASYNCAPI_ASSETS_DIR "asyncapi-assets"
#endif

namespace brook::asyncapi {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view package_dir = "node_modules/@asyncapi/react-component/";

struct asset {
  std::string_view route;
  std::string_view file;  ///< relative to the package directory
  std::string_view content_type;
};

constexpr asset assets[] = {
    {"/asyncapi-web/index.js", "browser/standalone/index.js", "text/javascript; charset=utf-8"},
    {"/asyncapi-web/default.min.css", "styles/default.min.css", "text/css; charset=utf-8"},
};

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A JavaScript string literal that is also safe inside a <script> element: '<' and '>' are
// escaped so the text can never close the element.
std::string js_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string default_assets_dir() {
  if (const char* env = std::getenv("BROOK_ASYNCAPI_ASSETS"); env && *env) {
    return env;
  }
  return BROOK_ASYNCAPI_ASSETS_DIR;
}

std::string html_page(std::string_view title, std::string_view json_url) {
  std::string t = html_escape(title);
  std::string url = html_escape(json_url);
  std::ostringstream page;
  page << R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>)"
       << t << R"( AsyncAPI</title>
<link rel="stylesheet" href="asyncapi-web/default.min.css">
<style>html { font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }</style>
</head>
<body>
<div id="asyncapi"></div>
<div id="asyncapi-missing" hidden>
<h1>)" << t
       << R"(</h1>
<p>The AsyncAPI web component is not installed next to this service, so the document cannot be
rendered here. Install it with <code>scripts/asyncapi-assets.sh &lt;dir&gt;</code> and point
<code>BROOK_ASYNCAPI_ASSETS</code> at that directory.</p>
<p>The raw document: <a href=")"
       << url << R"(">)" << url << R"(</a></p>
</div>
<script src="asyncapi-web/index.js"></script>
<script>
(function () {
  if (!window.AsyncApiStandalone) {
    document.getElementById("asyncapi-missing").hidden = false;
    return;
  }
  window.AsyncApiStandalone.render({
    schema: { url: )"
       << js_string(json_url) << R"(, requestOptions: { method: "GET" } },
    config: {
      show: { sidebar: true, info: true, servers: true, operations: true, messages: true,
              schemas: true, errors: true },
      sidebar: { showServers: "byDefault", showOperations: "byDefault" }
    }
  }, document.getElementById("asyncapi"));
})();
</script>
</body>
</html>
)";
  return page.str();
}

docs_handler::docs_handler(const boost::json::value& doc, std::string assets_dir)
    : assets_dir_(assets_dir.empty() ? default_assets_dir() : std::move(assets_dir)),
      json_(to_json_text(doc)),
      yaml_(to_yaml(doc)) {
  std::string title = "brook service";
  if (const auto* root = doc.if_object()) {
    if (const auto* info = root->if_contains("info"); info && info->is_object()) {
      if (const auto* t = info->as_object().if_contains("title"); t && t->is_string()) {
        title = std::string(t->as_string());
      }
    }
  }
  html_ = html_page(title);
}

std::optional<http_response> docs_handler::handle(std::string_view target) const {
  std::string_view path = target.substr(0, std::min(target.find_first_of("?#"), target.size()));
  if (path.empty() || path == "/" || path == "/index.html") {
    return http_response{200, "text/html; charset=utf-8", html_};
  }
  if (path == "/asyncapi.json") {
    return http_response{200, "application/json", json_};
  }
  if (path == "/asyncapi.yaml") {
    return http_response{200, "application/yaml; charset=utf-8", yaml_};
  }
  for (const asset& a : assets) {
    if (path != a.route) {
      continue;
    }
    std::string file = assets_dir_ + "/" + std::string(package_dir) + std::string(a.file);
    if (auto body = read_file(file)) {
      return http_response{200, std::string(a.content_type), std::move(*body)};
    }
    return http_response{404, "text/plain; charset=utf-8",
                         "AsyncAPI web component asset not found: " + file +
                             "\nInstall it with scripts/asyncapi-assets.sh " + assets_dir_ +
                             " or set BROOK_ASYNCAPI_ASSETS to the directory that holds it.\n"};
  }
  return std::nullopt;
}

namespace {

// One connection: read a request, answer it, repeat while the client keeps the connection alive.
// Everything runs on the server's single io thread; the route is called there.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, const http_route& route, const std::string& name)
      : stream_(std::move(socket)), route_(route), name_(name) {}

  void start() { read(); }

private:
  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) {
                         self->respond();
                       }
                     });
  }

  void respond() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(request_.version());
    res->keep_alive(request_.keep_alive());
    res->set(http::field::server, name_);
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->set(http::field::allow, "GET, HEAD");
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = "only GET and HEAD are supported\n";
    } else {
      std::string_view target(request_.target().data(), request_.target().size());
      target = target.substr(0, target.find('?'));
      std::optional<http_response> reply;
      try {
        reply = route_(target);
      } catch (const std::exception& e) {
        reply = http_response{500, "text/plain; charset=utf-8", std::string{e.what()} + "\n"};
      }
      if (!reply)
        reply = http_response{404, "text/plain; charset=utf-8", "not found\n"};
      res->result(reply->status);
      res->set(http::field::content_type, reply->content_type);
      res->set(http::field::cache_control, "no-cache");
      res->body() = std::move(reply->body);
    }
    res->prepare_payload();
    if (request_.method() == http::verb::head) {
      // Content-Length stays as computed; a HEAD reply carries no body.
      res->body().clear();
    }
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  const http_route& route_;
  const std::string& name_;
};

}  // namespace

struct http_server::impl {
  impl(http_route r, std::string host_name, unsigned short port_number, std::string server_name)
      : route(std::move(r)),
        host(std::move(host_name)),
        name(std::move(server_name)),
        requested_port(port_number) {}

  void listen() {
    tcp::endpoint endpoint(asio::ip::make_address(host), requested_port);
    acceptor.open(endpoint.protocol());
    // Not inherited by processes started from here (a fleet's workers): an orphan holding it
    // would keep the port bound and its connections unanswered.
    ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    bound_port = acceptor.local_endpoint().port();
    accept();
  }

  void accept() {
    acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        return;  // acceptor closed by stop()
      }
      std::make_shared<session>(std::move(socket), route, name)->start();
      accept();
    });
  }

  http_route route;
  std::string host;
  std::string name;
  unsigned short requested_port;
  std::atomic<unsigned short> bound_port{0};
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::mutex lifecycle;  ///< serializes start/run/stop
};

http_server::http_server(http_route route, std::string host, unsigned short port,
                         std::string server_name)
    : impl_(std::make_unique<impl>(std::move(route), std::move(host), port,
                                   std::move(server_name))) {}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  std::lock_guard guard(impl_->lifecycle);
  if (impl_->thread.joinable()) {
    return;
  }
  impl_->ioc.restart();
  impl_->listen();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

unsigned short http_server::port() const noexcept {
  return impl_->bound_port.load();
}

void http_server::stop() {
  std::lock_guard guard(impl_->lifecycle);
  // Stopping the context also ends a blocking run() on another thread, which then closes its
  // acceptor itself; the acceptor is only touched here once our own io thread has finished.
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  }
}

void http_server::run() {
  {
    std::lock_guard guard(impl_->lifecycle);
    impl_->ioc.restart();
    impl_->listen();
  }
  // A foreground `docs serve` ends on Ctrl+C or SIGTERM like FastStream's.
  asio::signal_set signals(impl_->ioc, SIGINT, SIGTERM);
  signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) {
      impl_->ioc.stop();
    }
  });
  impl_->ioc.run();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

namespace {
/// One request and its response on a fresh connection, every step bounded by `timeout`.
std::optional<http_response> exchange(const std::string& host, unsigned short port,
                                      http::request<http::string_body> req,
                                      std::chrono::milliseconds timeout) {
  try {
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    stream.expires_after(timeout);
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) {  // a name: resolve it
      tcp::resolver resolver{ioc};
      stream.connect(resolver.resolve(host, std::to_string(port)));
    } else {
      stream.connect(tcp::endpoint{address, port});
    }
    // The stream's expiry covers asynchronous operations only: bound the blocking ones here.
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    auto fd = stream.socket().native_handle();
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    req.set(http::field::host, host);
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return http_response{res.result_int(), std::string{res[http::field::content_type]},
                         std::move(res.body())};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
}  // namespace

std::optional<http_response> http_get(const std::string& host, unsigned short port,
                                      const std::string& target,
                                      std::chrono::milliseconds timeout) {
  return exchange(host, port, http::request<http::string_body>{http::verb::get, target, 11},
                  timeout);
}

std::optional<http_response> http_post(const std::string& host, unsigned short port,
                                       const std::string& target, std::string body,
                                       const std::string& content_type,
                                       std::chrono::milliseconds timeout) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  return exchange(host, port, std::move(req), timeout);
}

namespace {
http_route docs_route(std::shared_ptr<const docs_handler> h) {
  return [h](std::string_view target) -> std::optional<http_response> {
    if (auto r = h->handle(target))
      return r;
    return http_response{404, "text/plain; charset=utf-8",
                         "not found; try / or /asyncapi.json or /asyncapi.yaml\n"};
  };
}
}  // namespace

docs_server::docs_server(boost::json::value doc, std::string assets_dir, std::string host,
                         unsigned short port)
    : server_(docs_route(std::make_shared<const docs_handler>(doc, std::move(assets_dir))),
              std::move(host), port, "brook-asyncapi") {}

}  // namespace brook::asyncapi
