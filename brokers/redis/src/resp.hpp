#pragma once
/// @file
/// RESP2 command encoding. Publishes are formatted on the caller's thread, so the loop thread
/// only copies bytes into the socket buffer (hiredis' own formatting would run on the loop).
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

namespace brook::redis {

/// Appends one bulk string (`$<len>\r\n<bytes>\r\n`).
/// @code
/// std::string cmd;
/// append_array_header(cmd, 2);
/// append_bulk(cmd, "LLEN");
/// append_bulk(cmd, "orders");
/// @endcode
inline void append_bulk(std::string& out, std::string_view arg) {
  char head[24] = {'$'};
  auto end = std::to_chars(head + 1, head + sizeof head - 2, arg.size()).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(head, static_cast<std::size_t>(end - head));
  out.append(arg.data(), arg.size());
  out.append("\r\n", 2);
}

/// Appends the array header of a command with `n` arguments.
inline void append_array_header(std::string& out, std::size_t n) {
  char head[24] = {'*'};
  auto end = std::to_chars(head + 1, head + sizeof head - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(head, static_cast<std::size_t>(end - head));
}

/// "VERB key" of a formatted command, for error messages.
inline std::string describe_command(std::string_view resp) {
  std::string out;
  for (int i = 0; i < 2; ++i) {
    auto dollar = resp.find('$');
    auto eol = resp.find("\r\n", dollar);
    if (dollar == std::string_view::npos || eol == std::string_view::npos)
      break;
    std::size_t len = 0;
    std::from_chars(resp.data() + dollar + 1, resp.data() + eol, len);
    if (eol + 2 + len > resp.size())
      break;
    if (i > 0)
      out += ' ';
    out.append(resp.substr(eol + 2, std::min<std::size_t>(len, 200)));
    resp.remove_prefix(eol + 2 + len);
  }
  return out;
}

}  // namespace brook::redis
