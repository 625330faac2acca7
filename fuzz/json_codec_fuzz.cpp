// libFuzzer target for the JSON codec (brook/codec.hpp): arbitrary bytes decoded into described
// structs with nested members, vectors, maps and optionals, through the public decode_body and
// through both inner paths, the streaming decoder and the DOM, which must agree.
// Built and run by scripts/fuzz.sh, not by CI.
#include <boost/json/parse.hpp>
#include <brook/codec.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

enum class kind { alpha, beta, gamma };
BOOST_DESCRIBE_ENUM(kind, alpha, beta, gamma)

struct point {
  double x = 0;
  std::optional<std::int32_t> y;
  float w = 0;
};
BOOST_DESCRIBE_STRUCT(point, (), (x, y, w))

struct tag {
  std::string name;
  std::optional<std::vector<std::string>> aliases;
  std::optional<kind> k;
};
BOOST_DESCRIBE_STRUCT(tag, (), (name, aliases, k))

struct base {
  std::uint64_t seq = 0;
};
BOOST_DESCRIBE_STRUCT(base, (), (seq))

struct document : base {
  std::string id;
  std::int8_t small = 0;
  bool flag = false;
  kind k = kind::alpha;
  std::vector<point> points;
  std::optional<tag> label;
  std::map<std::string, std::vector<std::optional<std::uint16_t>>> buckets;
  std::vector<std::vector<std::int64_t>> grid;
  brook::bytes blob;
};
BOOST_DESCRIBE_STRUCT(document, (base), (id, small, flag, k, points, label, buckets, grid, blob))

// Recursion through an optional vector of itself.
struct tree {
  std::string name;
  std::optional<std::vector<tree>> children;
  std::map<std::string, std::string> attrs;
};
BOOST_DESCRIBE_STRUCT(tree, (), (name, children, attrs))

}  // namespace fuzz

namespace {

namespace codec = brook::codec;
namespace sax = brook::detail::codec::sax;

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "json_codec_fuzz: %s\ninput: %.*s\n", what, static_cast<int>(text.size()),
               text.data());
  std::abort();
}

template <class T>
void exercise(std::string_view text, std::string_view content_type, const brook::codec_options& o) {
  T public_path{};
  auto public_err = codec::decode_body(text, content_type, public_path, o);

  if (text.size() > o.max_body_bytes)
    return;
  T streamed{};
  auto r = sax::run(text, {&streamed, &sax::ops_of<T>()}, o);
  if (r == sax::outcome::unsupported)
    fail("the stream has no table for a fuzz type", text);

  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  std::optional<brook::decode_error> dom_err;
  T dom{};
  if (!ec)
    dom_err = codec::from_json(v, dom, o);
  bool dom_ok = !ec && !dom_err;

  if (r == sax::outcome::ok) {
    if (!dom_ok)
      fail("the stream accepted what the DOM rejects", text);
    if (codec::to_string(streamed) != codec::to_string(dom))
      fail("the stream and the DOM decoded different values", text);
  }
  // The stream may reject what the DOM accepts: with a duplicate key the stream sees every
  // occurrence (a wrong-typed earlier one fails it), the DOM only the last. `parse` then takes
  // the DOM's answer, which the checks below hold it to.
  if (dom_ok != !public_err)
    fail("decode_body disagrees with the DOM on success", text);
  if (dom_ok && codec::to_string(public_path) != codec::to_string(dom))
    fail("decode_body and the DOM decoded different values", text);
  if (public_err && public_err->path.empty())
    fail("an error without a path", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  // First byte: options and content type; the rest is the body.
  auto knobs = data[0];
  std::string_view text{reinterpret_cast<const char*>(data) + 1, size - 1};
  brook::codec_options o;
  o.strict = knobs & 1;
  if (knobs & 2)
    o.max_body_bytes = 64;
  static constexpr std::string_view types[] = {"application/json", "", "text/plain",
                                               "application/vnd.x+json; charset=utf-8"};
  auto content_type = types[(knobs >> 2) & 3];

  exercise<fuzz::document>(text, content_type, o);
  exercise<fuzz::tree>(text, content_type, o);
  exercise<std::vector<fuzz::point>>(text, content_type, o);
  exercise<std::optional<fuzz::tag>>(text, content_type, o);

  // String bodies: never fail, and a JSON string under a JSON content type is unwrapped.
  std::string s;
  if (codec::decode_body(text, content_type, s, o) && text.size() <= o.max_body_bytes)
    fail("a string body failed", text);
  return 0;
}
