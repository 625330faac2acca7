#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <brook/asyncapi/server.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace {

namespace aa = brook::asyncapi;
namespace fs = std::filesystem;
namespace http = boost::beast::http;

const boost::json::value doc = boost::json::parse(R"({"asyncapi": "3.0.0",
  "info": {"title": "Greeter <svc>", "version": "1.0.0"}, "channels": {}})");

// A fake install of the web component with recognizable file contents.
class fake_assets {
public:
  fake_assets()
      : dir_(fs::temp_directory_path() / ("brook-asyncapi-assets-" + std::to_string(::getpid()))) {
    fs::path pkg = dir_ / "node_modules/@asyncapi/react-component";
    fs::create_directories(pkg / "browser/standalone");
    fs::create_directories(pkg / "styles");
    std::ofstream(pkg / "browser/standalone/index.js") << "window.AsyncApiStandalone = {};";
    std::ofstream(pkg / "styles/default.min.css") << "body{}";
  }
  ~fake_assets() { fs::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }

private:
  fs::path dir_;
};

struct reply {
  unsigned status;
  std::string content_type;
  std::string body;
};

reply fetch(unsigned short port, http::verb method, const std::string& target) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  boost::beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(method == http::verb::head);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

TEST(html_page, loads_the_local_bundle_and_escapes_the_title) {
  std::string page = aa::html_page("a <b> & \"c\"", "docs/asyncapi.json?v=1");
  EXPECT_NE(page.find("<title>a &lt;b&gt; &amp; &quot;c&quot; AsyncAPI</title>"),
            std::string::npos);
  EXPECT_NE(page.find(R"(<script src="asyncapi-web/index.js"></script>)"), std::string::npos);
  EXPECT_NE(page.find(R"(href="asyncapi-web/default.min.css")"), std::string::npos);
  EXPECT_NE(page.find(R"(url: "docs/asyncapi.json?v=1")"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos) << "no CDN or other remote URL";
  EXPECT_EQ(page.find("https://"), std::string::npos) << "no CDN or other remote URL";
}

TEST(html_page, a_url_cannot_close_the_script) {
  std::string page = aa::html_page("t", "x</script><script>alert(1)//");
  EXPECT_EQ(page.find("</script><script>alert"), std::string::npos);
}

TEST(docs_handler, serves_page_documents_and_assets) {
  fake_assets assets;
  aa::docs_handler handler(doc, assets.dir());

  auto page = handler.handle("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("Greeter &lt;svc&gt; AsyncAPI"), std::string::npos);
  EXPECT_EQ(handler.handle("/index.html")->body, page->body);
  EXPECT_EQ(handler.handle("")->body, page->body);

  auto json = handler.handle("/asyncapi.json?download=1");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->content_type, "application/json");
  EXPECT_EQ(boost::json::parse(json->body), doc);

  auto yaml = handler.handle("/asyncapi.yaml");
  ASSERT_TRUE(yaml);
  EXPECT_EQ(yaml->content_type, "application/yaml; charset=utf-8");
  EXPECT_EQ(yaml->body.rfind("asyncapi: \"3.0.0\"\n", 0), 0U);

  auto js = handler.handle("/asyncapi-web/index.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200U);
  EXPECT_EQ(js->body, "window.AsyncApiStandalone = {};");
  EXPECT_EQ(handler.handle("/asyncapi-web/default.min.css")->body, "body{}");

  EXPECT_FALSE(handler.handle("/metrics"));
  EXPECT_FALSE(handler.handle("/asyncapi-web/../../etc/passwd"));
}

TEST(docs_handler, missing_assets_say_how_to_install_them) {
  aa::docs_handler handler(doc, "/nonexistent/brook-assets");
  auto js = handler.handle("/asyncapi-web/index.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 404U);
  EXPECT_NE(js->body.find("scripts/asyncapi-assets.sh /nonexistent/brook-assets"),
            std::string::npos);
}

TEST(docs_server, serves_over_http_on_a_free_port) {
  fake_assets assets;
  aa::docs_server server(doc, assets.dir(), "127.0.0.1", 0);
  server.start();
  ASSERT_NE(server.port(), 0);

  reply page = fetch(server.port(), http::verb::get, "/");
  EXPECT_EQ(page.status, 200U);
  EXPECT_NE(page.body.find("asyncapi-web/index.js"), std::string::npos);

  reply json = fetch(server.port(), http::verb::get, "/asyncapi.json");
  EXPECT_EQ(json.status, 200U);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(json.body), doc);

  reply js = fetch(server.port(), http::verb::get, "/asyncapi-web/index.js");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "window.AsyncApiStandalone = {};");

  reply head = fetch(server.port(), http::verb::head, "/asyncapi.yaml");
  EXPECT_EQ(head.status, 200U);
  EXPECT_TRUE(head.body.empty());

  EXPECT_EQ(fetch(server.port(), http::verb::get, "/nope").status, 404U);
  EXPECT_EQ(fetch(server.port(), http::verb::post, "/").status, 405U);

  server.stop();
  server.stop();  // idempotent
}

TEST(docs_server, run_blocks_until_stopped) {
  aa::docs_server server(doc, "/nonexistent", "127.0.0.1", 0);
  std::thread runner([&] { server.run(); });
  while (server.port() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(fetch(server.port(), http::verb::get, "/asyncapi-web/index.js").status, 404U);
  server.stop();
  runner.join();
}

TEST(docs_server, a_taken_port_is_reported) {
  aa::docs_server first(doc, "/nonexistent", "127.0.0.1", 0);
  first.start();
  aa::docs_server second(doc, "/nonexistent", "127.0.0.1", first.port());
  EXPECT_THROW(second.start(), boost::system::system_error);
}

TEST(docs_server, default_assets_dir_follows_the_environment) {
  ::setenv("BROOK_ASYNCAPI_ASSETS", "/opt/brook/assets", 1);
  EXPECT_EQ(aa::default_assets_dir(), "/opt/brook/assets");
  // An empty directory (an unset --assets flag) falls back to the default.
  auto missing = aa::docs_handler(doc, "").handle("/asyncapi-web/index.js");
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->body.find("/opt/brook/assets/node_modules/"), std::string::npos);
  ::unsetenv("BROOK_ASYNCAPI_ASSETS");
  EXPECT_FALSE(aa::default_assets_dir().empty());
}

}  // namespace
