#include "envelope.hpp"

#include <brook/detail/ids.hpp>
#include <charconv>
#include <string>

namespace brook::kafka {

void to_envelope(const rd_kafka_message_t& m, envelope& env) {
  // Assigned, not constructed: a pooled envelope's strings keep their storage.
  env.channel.assign(rd_kafka_topic_name(m.rkt));
  if (m.payload)
    env.body.assign(static_cast<const char*>(m.payload), m.len);
  else
    env.body.clear();
  rd_kafka_headers_t* hdrs = nullptr;
  std::size_t n = 0;
  if (rd_kafka_message_headers(&m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs)
    n = rd_kafka_header_cnt(hdrs);
  env.headers.refill(n, [&](std::size_t i) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    rd_kafka_header_get_all(hdrs, i, &name, &value, &size);
    return std::pair<std::string_view, std::string_view>{
        name, value ? std::string_view{static_cast<const char*>(value), size} : std::string_view{}};
  });
  auto get = [&](std::string& into, std::string_view key) {
    if (auto* v = env.headers.find(key))
      into.assign(*v);
    else
      into.clear();
  };
  get(env.correlation_id, "correlation_id");
  get(env.content_type, "content-type");
  get(env.message_id, "message_id");
  get(env.reply_to, "reply_to");
  env.delivery.partition = m.partition;
  env.delivery.offset = m.offset;
  rd_kafka_timestamp_type_t tstype;
  auto ts = rd_kafka_message_timestamp(&m, &tstype);
  env.delivery.timestamp_ms = tstype != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? ts : 0;
  if (env.message_id.empty()) {
    // FastStream's id of a record without the header: "<offset>-<timestamp>".
    char buf[48];
    auto end = std::to_chars(buf, buf + 20, m.offset).ptr;
    *end++ = '-';
    end = std::to_chars(end, buf + sizeof buf, ts).ptr;
    env.message_id.assign(buf, end);
  }
  if (env.correlation_id.empty())
    env.correlation_id = detail::new_uuid();
  record_id(env.channel, m.partition, m.offset, env.delivery.broker_id);
  // The topic is the channel; partition and offset are in `delivery`.
  if (m.key)
    env.metadata.insert_or_assign("key", std::string{static_cast<const char*>(m.key), m.key_len});
  else
    env.metadata.erase("key");
}

rd_kafka_headers_t* make_headers(const outgoing& out) {
  auto* h = rd_kafka_headers_new(4 + out.headers.size());
  auto add = [&](std::string_view k, std::string_view v) {
    rd_kafka_header_add(h, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  };
  // As FastStream writes them; user headers last (they win on the reading side's lookup
  // only if they replace these, so a user header of the same name replaces it here).
  auto user = [&](std::string_view k) { return out.headers.find(k) != nullptr; };
  if (!user("correlation_id"))
    add("correlation_id", out.correlation_id.empty() ? detail::new_uuid() : out.correlation_id);
  if (!user("content-type"))
    add("content-type", out.content_type);
  if (!out.reply_to.empty() && !user("reply_to"))
    add("reply_to", out.reply_to);
  if (!out.message_id.empty() && !user("message_id"))
    add("message_id", out.message_id);
  for (auto& [k, v] : out.headers)
    add(k, v);
  return h;
}

error_info kafka_error(rd_kafka_resp_err_t err, std::string_view where) {
  errc code = errc::publish_failed;
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE: code = errc::disconnected; break;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: code = errc::timeout; break;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL: code = errc::overflow; break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: code = errc::invalid_argument; break;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: code = errc::not_found; break;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: code = errc::closed; break;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION: code = errc::connection_failed; break;
    default: break;
  }
  std::string text{where};
  text += ": ";
  text += rd_kafka_err2str(err);
  return {code, std::move(text)};
}

void record_id(std::string_view topic, std::int32_t partition, std::int64_t offset,
               std::string& into) {
  char buf[40];
  char* end = buf;
  *end++ = ':';
  end = std::to_chars(end, buf + 12, partition).ptr;
  *end++ = ':';
  end = std::to_chars(end, buf + sizeof buf, offset).ptr;
  into.reserve(topic.size() + static_cast<std::size_t>(end - buf));
  into.assign(topic);
  into.append(buf, end);
}

std::string record_id(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  std::string id;
  record_id(topic, partition, offset, id);
  return id;
}

}  // namespace brook::kafka
