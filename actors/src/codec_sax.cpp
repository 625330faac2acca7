// The streaming decoder's driver: Boost.JSON's basic_parser feeding the
// per-type tables of <brook/detail/codec_sax.hpp>.
#include <boost/json/basic_parser_impl.hpp>
#include <brook/codec.hpp>
#include <vector>

namespace brook::detail::codec::sax {
namespace {

using boost::system::error_code;
using jsv = boost::json::string_view;

/// Receives the parser's events and stops it at the first value that does
/// not fit (the caller then decodes through the DOM to word the error).
class handler {
public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  void start(slot root, const codec_options& o) {
    root_ = root;
    o_ = &o;
    stack_.clear();
    parts_.clear();
    skip_ = 0;
    unsupported_ = false;
  }
  bool unsupported() const noexcept { return unsupported_; }
  /// Drops references into the caller's objects.
  void finish() {
    stack_.clear();
    root_ = {};
    o_ = nullptr;
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code& ec) { return begin(true, ec); }
  bool on_array_begin(error_code& ec) { return begin(false, ec); }
  bool on_object_end(std::size_t, error_code& ec) { return end(ec); }
  bool on_array_end(std::size_t, error_code& ec) { return end(ec); }

  bool on_key_part(jsv s, std::size_t, error_code&) { return part(s); }
  bool on_key(jsv s, std::size_t, error_code& ec) {
    if (skip_ > 0)
      return true;
    frame& f = stack_.back();
    bool ok = f.ops->on_element(f, whole(s), next_, *o_);
    parts_.clear();
    return ok || stop(ec);
  }
  bool on_string_part(jsv s, std::size_t, error_code&) { return part(s); }
  bool on_string(jsv s, std::size_t, error_code& ec) {
    if (skip_ > 0)
      return true;
    scalar v;
    v.kind = json::kind::string;
    v.s = whole(s);
    bool ok = value(v, ec);
    parts_.clear();
    return ok;
  }
  bool on_number_part(jsv, error_code&) { return true; }
  bool on_int64(std::int64_t i, jsv, error_code& ec) {
    scalar v;
    v.kind = json::kind::int64;
    v.i = i;
    return value(v, ec);
  }
  bool on_uint64(std::uint64_t u, jsv, error_code& ec) {
    scalar v;
    v.kind = json::kind::uint64;
    v.u = u;
    return value(v, ec);
  }
  bool on_double(double d, jsv, error_code& ec) {
    scalar v;
    v.kind = json::kind::double_;
    v.d = d;
    return value(v, ec);
  }
  bool on_bool(bool b, error_code& ec) {
    scalar v;
    v.kind = json::kind::bool_;
    v.b = b;
    return value(v, ec);
  }
  bool on_null(error_code& ec) { return value(scalar{}, ec); }
  bool on_comment_part(jsv, error_code&) { return true; }
  bool on_comment(jsv, error_code&) { return true; }

private:
  static bool stop(error_code& ec) {
    ec = boost::json::error::exception;  // any error: run() looks at unsupported_
    return false;
  }
  bool give_up(error_code& ec) {
    unsupported_ = true;
    return stop(ec);
  }

  /// A key or string continues past the parser's buffer: collect its pieces.
  bool part(jsv s) {
    if (skip_ == 0)
      parts_.append(s.data(), s.size());
    return true;
  }

  std::string_view whole(jsv last) {
    if (parts_.empty())
      return {last.data(), last.size()};
    parts_.append(last.data(), last.size());
    return parts_;
  }

  /// Where the value that starts now goes.
  bool take_slot(slot& s) {
    if (stack_.empty()) {
      s = root_;
      return true;
    }
    frame& f = stack_.back();
    if (f.object) {
      s = next_;
      return true;
    }
    return f.ops->on_element(f, {}, s, *o_);
  }

  bool value(const scalar& v, error_code& ec) {
    if (skip_ > 0)
      return true;
    slot s;
    if (!take_slot(s))
      return stop(ec);
    if (s.ops == nullptr)  // an unknown field's value
      return true;
    if (!s.ops->supported)
      return give_up(ec);
    if (!s.ops->on_scalar(s.obj, v, *o_))
      return stop(ec);
    return true;
  }

  bool begin(bool object, error_code& ec) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    slot s;
    if (!take_slot(s))
      return stop(ec);
    if (s.ops == nullptr) {
      skip_ = 1;
      return true;
    }
    frame f;
    f.obj = s.obj;
    f.ops = s.ops;
    f.object = object;
    if (!f.ops->supported)
      return give_up(ec);
    if (!f.ops->on_begin(f))
      return f.ops->supported ? stop(ec) : give_up(ec);  // an optional's value may lack one
    stack_.push_back(f);
    return true;
  }

  bool end(error_code& ec) {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    frame& f = stack_.back();
    if (!f.ops->on_end(f))
      return stop(ec);
    stack_.pop_back();
    return true;
  }

  const codec_options* o_ = nullptr;
  slot root_;
  slot next_;
  std::vector<frame> stack_;
  std::string parts_;
  std::size_t skip_ = 0;
  bool unsupported_ = false;
};

using parser = boost::json::basic_parser<handler>;

parser& thread_parser() {
  thread_local parser p{boost::json::parse_options{}};
  return p;
}

}  // namespace

outcome run(std::string_view text, slot root, const codec_options& o) {
  parser& p = thread_parser();
  p.reset();
  p.handler().start(root, o);
  error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  p.handler().finish();
  if (p.handler().unsupported())
    return outcome::unsupported;
  return !ec && n == text.size() ? outcome::ok : outcome::mismatch;
}

}  // namespace brook::detail::codec::sax
