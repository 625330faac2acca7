#include "envelope.hpp"

#include <brook/detail/ids.hpp>
#include <string>

namespace brook::nats {

void to_envelope(natsMsg* msg, bool jetstream, envelope& env) {
  env.channel = natsMsg_GetSubject(msg);
  if (auto* data = natsMsg_GetData(msg))
    env.body.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    env.headers.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK)
        env.headers.push_back({keys[i], value ? value : ""});
    }
    free(static_cast<void*>(keys));
  }
  auto get = [&](std::string_view key) {
    auto* v = env.headers.find(key);
    return v ? *v : std::string{};
  };
  env.correlation_id = get("correlation_id");
  env.content_type = get("content-type");
  env.message_id = get("message_id");
  if (jetstream) {
    env.reply_to = get("reply_to");
  } else if (auto* reply = natsMsg_GetReply(msg)) {
    env.reply_to = reply;
  }
  if (env.correlation_id.empty() || env.message_id.empty()) {
    auto id = detail::new_uuid();
    if (env.correlation_id.empty())
      env.correlation_id = id;
    if (env.message_id.empty())
      env.message_id = std::move(id);
  }
}

error_info make_message(const outgoing& out, bool jetstream, natsMsg*& msg) {
  msg = nullptr;
  const char* reply = !jetstream && !out.reply_to.empty() ? out.reply_to.c_str() : nullptr;
  if (auto s = natsMsg_Create(&msg, out.channel.c_str(), reply, out.body.data(),
                              static_cast<int>(out.body.size()));
      s != NATS_OK)
    return status_error(s, "nats: publish to '" + out.channel + "'");
  auto set = [&](const std::string& k, const std::string& v) {
    return natsMsgHeader_Set(msg, k.c_str(), v.c_str());
  };
  natsStatus s =
      set("correlation_id", out.correlation_id.empty() ? detail::new_uuid() : out.correlation_id);
  if (s == NATS_OK)
    s = set("content-type", out.content_type);
  if (s == NATS_OK && !out.message_id.empty())
    s = set("message_id", out.message_id);
  if (s == NATS_OK && jetstream && !out.reply_to.empty())
    s = set("reply_to", out.reply_to);
  for (auto& [k, v] : out.headers)
    if (s == NATS_OK)
      s = set(k, v);
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    msg = nullptr;
    return status_error(s, "nats: the headers of a publish to '" + out.channel +
                               "' (keys must be printable ASCII without ':')");
  }
  return {};
}

error_info status_error(natsStatus s, std::string_view where) {
  errc code = errc::publish_failed;
  switch (s) {
    case NATS_CONNECTION_CLOSED: code = errc::closed; break;
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_INSUFFICIENT_BUFFER:
    case NATS_NO_SERVER: code = errc::disconnected; break;
    case NATS_TIMEOUT: code = errc::timeout; break;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_QUEUE_NAME:
    case NATS_MAX_PAYLOAD: code = errc::invalid_argument; break;
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED: code = errc::connection_failed; break;
    default: break;
  }
  std::string text{where};
  text += ": ";
  text += natsStatus_GetText(s);
  return {code, std::move(text)};
}

}  // namespace brook::nats
