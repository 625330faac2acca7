#include <brook/redis/settings.hpp>
#include <charconv>

namespace brook::redis {

namespace {

error_info bad(std::string_view url, const std::string& what) {
  // Never echo the password back into logs: cut the URL at the credentials.
  std::string shown{url};
  if (auto at = shown.rfind('@'); at != std::string::npos)
    if (auto scheme = shown.find("://"); scheme != std::string::npos && scheme < at)
      shown.replace(scheme + 3, at - scheme - 3, "***");
  return {errc::invalid_argument, "redis url '" + shown + "': " + what +
                                      " (expected redis://[[user]:password@]host[:port][/db])"};
}

// Percent-decoding lets passwords contain '@', ':' or '/', as redis-py and others accept.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= in.size())
      return false;
    auto r = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (r.ec != std::errc{} || r.ptr != in.data() + i + 3)
      return false;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

}  // namespace

error_info parse_url(std::string_view url, endpoint& out) {
  endpoint ep;
  constexpr std::string_view scheme = "redis://";
  if (url.starts_with("rediss://"))
    return bad(url, "TLS (rediss://) is not supported: Debian's hiredis 0.14 has no TLS");
  if (url.starts_with("unix://"))
    return bad(url, "unix sockets are not supported");
  if (!url.starts_with(scheme))
    return bad(url, "the scheme must be redis://");
  auto rest = url.substr(scheme.size());
  if (auto q = rest.find_first_of("?#"); q != std::string_view::npos)
    return bad(url, "query parameters are not supported; use brook::redis::settings");

  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    auto user = userinfo.substr(0, colon);
    auto pass = colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1);
    if (colon == std::string_view::npos) {
      // redis://secret@host is a common shorthand for a password without a user.
      pass = user;
      user = {};
    }
    if (!percent_decode(user, ep.user) || !percent_decode(pass, ep.password))
      return bad(url, "bad percent-encoding in the credentials");
    if (ep.password.empty() && !ep.user.empty())
      return bad(url, "a user needs a password");
  }

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad(url, "unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':')
        return bad(url, "unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty())
    return bad(url, "the host is missing");
  ep.host.assign(host);
  if (!port.empty() || authority.ends_with(':')) {
    unsigned p = 0;
    auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (r.ec != std::errc{} || r.ptr != port.data() + port.size() || p == 0 || p > 65535)
      return bad(url, "the port '" + std::string{port} + "' is not a number in 1..65535");
    ep.port = static_cast<std::uint16_t>(p);
  }
  if (!path.empty()) {
    int db = -1;
    auto r = std::from_chars(path.data(), path.data() + path.size(), db);
    if (r.ec != std::errc{} || r.ptr != path.data() + path.size() || db < 0)
      return bad(url, "the database '" + std::string{path} + "' is not a number >= 0");
    ep.db = db;
  }
  out = std::move(ep);
  return {};
}

}  // namespace brook::redis
