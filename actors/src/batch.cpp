// A batch subscriber's messages as one delivery: the envelope its handler runs on.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <brook/codec.hpp>

#include "runtime.hpp"

namespace brook::detail {

namespace {

/// Settles every message of a batch alike.
class batch_ack final : public acknowledger {
public:
  explicit batch_ack(std::vector<std::shared_ptr<acknowledger>> acks) : acks_(std::move(acks)) {}
  void ack() override {
    for (auto& a : acks_)
      a->ack();
  }
  void nack() override {
    for (auto& a : acks_)
      a->nack();
  }
  void reject() override {
    for (auto& a : acks_)
      a->reject();
  }
  void nack_after(std::chrono::milliseconds delay) override {
    for (auto& a : acks_)
      a->nack_after(delay);
  }
  void in_progress() override {
    for (auto& a : acks_)
      a->in_progress();
  }

private:
  std::vector<std::shared_ptr<acknowledger>> acks_;
};

/// Whether `e`'s body goes into the array as it is (JSON), or as a JSON string.
bool is_json_body(const envelope& e) {
  if (!e.content_type.empty())
    return detail::codec::is_json_media_type(e.content_type);
  boost::system::error_code ec;
  boost::json::parse(e.body, ec);  // no content type (a raw producer): JSON if it parses
  return !ec;
}

}  // namespace

envelope_ptr make_batch(std::vector<envelope_ptr> members) {
  auto out = std::make_shared<envelope>();
  const auto& first = *members.front();
  out->channel = first.channel;
  out->headers = first.headers;
  out->correlation_id = first.correlation_id;
  out->reply_to = first.reply_to;
  out->message_id = first.message_id;
  out->metadata = first.metadata;
  out->content_type = "application/json";
  out->delivery = first.delivery;
  std::size_t size = 2;
  for (auto& m : members)
    size += m->body.size() + 1;
  out->body.reserve(size);
  out->body.push_back('[');
  std::vector<std::shared_ptr<acknowledger>> acks;
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto& m = *members[i];
    if (i > 0)
      out->body.push_back(',');
    if (m.body.empty() && detail::codec::is_json_media_type(m.content_type))
      out->body += "null";
    else if (is_json_body(m))
      out->body += m.body;
    else
      out->body += boost::json::serialize(boost::json::string{m.body});
    if (m.ack)
      acks.push_back(m.ack);
    out->delivery.attempt = std::max(out->delivery.attempt, m.delivery.attempt);
    out->delivery.redelivered = out->delivery.redelivered || m.delivery.redelivered;
  }
  out->body.push_back(']');
  if (members.size() > 1 && !members.back()->delivery.broker_id.empty())
    out->delivery.broker_id += ".." + members.back()->delivery.broker_id;
  if (!acks.empty())
    out->ack = std::make_shared<batch_ack>(std::move(acks));
  out->batch = std::move(members);
  return out;
}

}  // namespace brook::detail
