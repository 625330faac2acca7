// The in-memory transport: per-subscription queues, credit, ack semantics.
#include <algorithm>
#include <atomic>
#include <brook/detail/adaptive_mutex.hpp>
#include <brook/detail/ids.hpp>
#include <brook/memory/transport.hpp>
#include <deque>
#include <map>
#include <unordered_map>

namespace brook::memory {

bool matches(std::string_view pattern, std::string_view channel) {
  std::size_t p = 0, c = 0;
  while (p < pattern.size()) {
    char pc = pattern[p];
    if ((pc == '>' || pc == '#') && p + 1 == pattern.size())
      return true;
    if (pc == '*') {
      // `*` spans characters up to the next '.', trying every split point.
      ++p;
      for (std::size_t k = c;; ++k) {
        if (matches(pattern.substr(p), channel.substr(k)))
          return true;
        if (k >= channel.size() || channel[k] == '.')
          return false;
      }
    }
    if (c >= channel.size() || channel[c] != pc)
      return false;
    ++p;
    ++c;
  }
  return c == channel.size();
}

namespace {
std::string random_id() {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(32, '0');
  for (std::size_t half = 0; half < 2; ++half) {
    auto v = detail::random64();
    for (std::size_t k = 0; k < 16; ++k, v >>= 4)
      s[half * 16 + k] = hex[v & 0xf];
  }
  return s;
}
}  // namespace

envelope to_envelope(outgoing&& m) {
  envelope e;
  e.headers.reserve(m.headers.size() + 3);
  e.headers.push_back({"correlation_id", m.correlation_id});
  if (!m.content_type.empty())
    e.headers.push_back({"content-type", m.content_type});
  if (!m.reply_to.empty())
    e.headers.push_back({"reply_to", m.reply_to});
  for (auto& kv : m.headers)
    e.headers.set(kv.first, kv.second);
  e.channel = std::move(m.channel);
  e.body = std::move(m.body);
  e.correlation_id = std::move(m.correlation_id);
  e.reply_to = std::move(m.reply_to);
  e.content_type = std::move(m.content_type);
  e.message_id = m.message_id.empty() ? random_id() : std::move(m.message_id);
  return e;
}

struct member {
  std::shared_ptr<delivery_sink> sink;
  std::size_t credit = 0;
  bool active = true;
};

/// What a subscription of `spec` can do: a memory queue has acks and
/// redelivery; a driver's typed spec (the test broker standing in for Redis)
/// brings that driver's semantics, which the queue then keeps to.
capabilities capabilities_for(const subscription_spec& spec) {
  capabilities c;
  if (spec.driver.capabilities(c))
    return c;
  c.acks = ack_mode::per_message;
  c.nack_redelivers = true;
  c.counts_attempts = true;
  return c;
}

// Like a broker's queue: messages wait in `pending`; a delivered message sits
// in `unacked` (the very object the consumer got) until it is settled. A nack,
// or its consumer going away, puts it back at the head of `pending`.
struct queue {
  subscription_spec spec;
  std::deque<envelope_ptr> pending;
  std::vector<std::shared_ptr<member>> members;
  std::size_t next = 0;
  struct delivery {
    envelope_ptr env;
    const member* to = nullptr;
  };
  capabilities caps;
  std::unordered_map<std::uint64_t, delivery> unacked;
  std::uint64_t next_tag = 0;
};

struct memory_transport::state : std::enable_shared_from_this<memory_transport::state> {
  settings cfg;
  mutable detail::adaptive_mutex mtx;
  std::vector<std::shared_ptr<queue>> queues;
  std::map<std::string, std::shared_ptr<delivery_sink>> replies;
  std::atomic<std::size_t> rejected{0};
  hooks emulation;  ///< a driver emulation's routing and envelope finishing, when it set them
  bool closed = false;

  void pump(const std::shared_ptr<queue>& q);
  /// Moves an unacked delivery back to the head of the queue (mtx held).
  static void requeue(queue& q, std::uint64_t tag) {
    auto i = q.unacked.find(tag);
    if (i == q.unacked.end())
      return;
    // A fresh object: the previous consumer may still hold (and settle) the old one.
    auto again = std::make_shared<envelope>(*i->second.env);
    q.unacked.erase(i);
    again->ack.reset();
    again->metadata["redelivered"] = "true";
    again->delivery.redelivered = true;
    ++again->delivery.attempt;
    q.pending.push_front(std::move(again));
  }
};

namespace {

// Holds no strong reference to its envelope (which owns it): settlement finds
// the delivery by tag. Settling twice, or after the consumer left, is a no-op.
class memory_ack final : public acknowledger {
public:
  memory_ack(std::weak_ptr<memory_transport::state> st, std::weak_ptr<queue> q, std::uint64_t tag)
      : st_(std::move(st)), q_(std::move(q)), tag_(tag) {}
  void ack() override { settle(false); }
  void reject() override {
    if (settle(false))
      if (auto st = st_.lock())
        ++st->rejected;
  }
  void nack() override { settle(true); }

private:
  bool settle(bool again) {
    if (done_.exchange(true))
      return false;
    auto st = st_.lock();
    auto q = q_.lock();
    if (!st || !q)
      return false;
    std::unique_lock lock{st->mtx};
    auto i = q->unacked.find(tag_);
    if (i == q->unacked.end())
      return false;
    if (again) {
      memory_transport::state::requeue(*q, tag_);
      st->pump(q);
      return true;
    }
    // The map's reference is released outside the lock (the envelope owns
    // this acknowledger; the consumer's reference keeps both alive here).
    auto env = std::move(i->second.env);
    q->unacked.erase(i);
    lock.unlock();
    return true;
  }

  std::weak_ptr<memory_transport::state> st_;
  std::weak_ptr<queue> q_;
  std::uint64_t tag_;
  std::atomic<bool> done_{false};
};

}  // namespace

void memory_transport::state::pump(const std::shared_ptr<queue>& qs) {
  // Called with mtx held. Round-robin over members that have credit.
  auto& q = *qs;
  while (!q.pending.empty() && !closed) {
    member* target = nullptr;
    for (std::size_t k = 0; k < q.members.size(); ++k) {
      auto& m = q.members[(q.next + k) % q.members.size()];
      if (m->active && m->credit > 0) {
        target = m.get();
        q.next = (q.next + k + 1) % q.members.size();
        break;
      }
    }
    if (!target)
      return;
    --target->credit;
    auto env = std::move(q.pending.front());
    q.pending.pop_front();
    auto tag = ++q.next_tag;
    env->delivery.broker_id = std::to_string(tag);  // the delivery tag
    if (q.caps.acks != ack_mode::none) {
      env->ack = std::make_shared<memory_ack>(weak_from_this(), qs, tag);
      q.unacked.emplace(tag, queue::delivery{env, target});
    }
    target->sink->deliver(std::move(env));
  }
}

namespace {

class memory_subscription final : public subscription {
public:
  memory_subscription(std::shared_ptr<memory_transport::state> st, std::shared_ptr<queue> q,
                      std::shared_ptr<member> m)
      : st_(std::move(st)), q_(std::move(q)), m_(std::move(m)) {}
  ~memory_subscription() override {
    // Like closing a channel: what this consumer had not settled goes back.
    std::vector<envelope_ptr> released;
    std::lock_guard lock{st_->mtx};
    m_->active = false;
    std::erase(q_->members, m_);
    q_->next = 0;
    std::vector<std::uint64_t> tags;
    for (auto& [tag, d] : q_->unacked)
      if (d.to == m_.get())
        tags.push_back(tag);
    std::sort(tags.rbegin(), tags.rend());  // oldest ends up first
    for (auto tag : tags)
      memory_transport::state::requeue(*q_, tag);
    st_->pump(q_);
  }
  void request(std::size_t n) override {
    std::lock_guard lock{st_->mtx};
    m_->credit += n;
    st_->pump(q_);
  }
  brook::capabilities capabilities() const noexcept override { return q_->caps; }
  void cancel(std::function<void()> done) override {
    {
      // Deliveries happen under the lock: after it, none can follow.
      std::lock_guard lock{st_->mtx};
      m_->active = false;
      st_->pump(q_);  // what it would have taken goes to the other members
    }
    if (done)
      done();
  }

private:
  std::shared_ptr<memory_transport::state> st_;
  std::shared_ptr<queue> q_;
  std::shared_ptr<member> m_;
};

// Drivers' kinds, emulated: a message published to a list target reaches list
// subscribers only, and so on; no typed spec (or a `channel`) is plain pub/sub.
std::string_view kind_of(std::string_view k, const settings& cfg) {
  return k.empty() ? std::string_view{cfg.default_kind} : k;
}

/// Whether `address` is a pattern here: declared so, or a wildcard subject (NATS).
bool is_pattern(const subscription_spec& s, const settings& cfg) {
  if (s.pattern)
    return true;
  if (!cfg.wildcard_names)
    return false;
  for (std::size_t i = 0; i < s.address.size(); ++i)
    if ((s.address[i] == '*' || s.address[i] == '>') && (i == 0 || s.address[i - 1] == '.') &&
        (i + 1 == s.address.size() || s.address[i + 1] == '.'))
      return true;
  return false;
}

// A list's consumers compete like a group's members; everyone else fans out.
bool shared_queue(const subscription_spec& s) {
  return !s.group.empty() || s.driver.competing();
}

bool same_queue(const subscription_spec& a, const subscription_spec& b, const settings& cfg) {
  return a.address == b.address && a.pattern == b.pattern && a.group == b.group &&
         kind_of(a.driver.kind(), cfg) == kind_of(b.driver.kind(), cfg);
}

bool glob(std::string_view p, std::string_view s) {
  if (p.empty())
    return s.empty();
  if (p.front() == '*') {
    for (std::size_t k = 0; k <= s.size(); ++k)
      if (glob(p.substr(1), s.substr(k)))
        return true;
    return false;
  }
  return !s.empty() && (p.front() == '?' || p.front() == s.front()) &&
         glob(p.substr(1), s.substr(1));
}

/// Whether `m` reaches queue `q` (its kind aside): the driver emulation's router says,
/// else the address rules of `cfg`.
bool reaches(const queue& q, const outgoing& m, const settings& cfg,
             const memory_transport::router& route) {
  if (route)
    if (auto r = route(q.spec, m))
      return *r;
  if (!is_pattern(q.spec, cfg))
    return q.spec.address == m.channel;
  return cfg.glob_patterns ? glob(q.spec.address, m.channel) : matches(q.spec.address, m.channel);
}

}  // namespace

memory_transport::memory_transport(settings s) : st_(std::make_shared<state>()) {
  st_->cfg = s;
}

memory_transport::~memory_transport() = default;

std::unique_ptr<subscription> memory_transport::subscribe(const subscription_spec& spec,
                                                          std::shared_ptr<delivery_sink> sink) {
  std::lock_guard lock{st_->mtx};
  // A group's members share one queue; a fan-out subscriber re-subscribing
  // (after a restart) finds its old queue and the messages that waited in it.
  std::shared_ptr<queue> q;
  for (auto& x : st_->queues)
    if (same_queue(x->spec, spec, st_->cfg) && (shared_queue(spec) || x->members.empty())) {
      q = x;
      break;
    }
  if (!q) {
    q = std::make_shared<queue>();
    q->spec = spec;
    q->caps = capabilities_for(spec);
    st_->queues.push_back(q);
  }
  auto m = std::make_shared<member>();
  m->sink = std::move(sink);
  q->members.push_back(m);
  return std::make_unique<memory_subscription>(st_, q, m);
}

void memory_transport::publish(outgoing msg, publish_callback done) {
  error_info result;
  {
    std::lock_guard lock{st_->mtx};
    if (st_->closed) {
      result = {errc::closed, "memory broker is closed"};
    } else if (auto r = st_->replies.find(msg.channel); r != st_->replies.end()) {
      auto env = std::make_shared<envelope>(to_envelope(std::move(msg)));
      if (st_->emulation.finish)
        st_->emulation.finish(*env);
      r->second->deliver(std::move(env));
    } else {
      std::vector<std::shared_ptr<queue>> hits;
      auto kind = kind_of(msg.driver.kind(), st_->cfg);
      for (auto& q : st_->queues) {
        bool hit = reaches(*q, msg, st_->cfg, st_->emulation.route) &&
                   kind_of(q->spec.driver.kind(), st_->cfg) == kind;
        if (!hit)
          continue;
        if (st_->cfg.max_queue && q->pending.size() >= st_->cfg.max_queue) {
          result = {errc::overflow, "queue of '" + q->spec.address + "' holds " +
                                        std::to_string(q->pending.size()) +
                                        " messages (settings::max_queue); publish refused"};
          continue;
        }
        hits.push_back(q);
      }
      // Each queue gets its own envelope (it carries its own ack); the last
      // one takes the original, so the common single-queue case copies nothing.
      if (!hits.empty()) {
        auto proto = to_envelope(std::move(msg));
        if (st_->emulation.finish)
          st_->emulation.finish(proto);
        for (std::size_t k = 0; k < hits.size(); ++k) {
          auto env = k + 1 == hits.size() ? std::make_shared<envelope>(std::move(proto))
                                          : std::make_shared<envelope>(proto);
          hits[k]->pending.push_back(std::move(env));
          st_->pump(hits[k]);
        }
      }
    }
  }
  if (done)
    done(result);
}

std::string memory_transport::open_replies(std::shared_ptr<delivery_sink> sink) {
  auto address = "brook.reply." + random_id();
  std::lock_guard lock{st_->mtx};
  st_->replies.emplace(address, std::move(sink));
  return address;
}

void memory_transport::close() {
  std::lock_guard lock{st_->mtx};
  st_->closed = true;
  st_->replies.clear();
}

std::size_t memory_transport::discard_pending(const outgoing& probe,
                                              const std::function<bool(const envelope&)>& which) {
  std::vector<envelope_ptr> dropped;  // released outside the lock
  std::lock_guard lock{st_->mtx};
  std::size_t n = 0;
  for (auto& q : st_->queues) {
    if (!reaches(*q, probe, st_->cfg, st_->emulation.route))
      continue;
    ++n;
    auto keep = std::stable_partition(q->pending.begin(), q->pending.end(),
                                      [&](const envelope_ptr& e) { return which && !which(*e); });
    for (auto i = keep; i != q->pending.end(); ++i)
      dropped.push_back(std::move(*i));
    q->pending.erase(keep, q->pending.end());
  }
  return n;
}

void memory_transport::emulate_with(hooks h) {
  std::lock_guard lock{st_->mtx};
  st_->emulation = std::move(h);
}

std::size_t memory_transport::pending() const {
  std::lock_guard lock{st_->mtx};
  std::size_t n = 0;
  for (auto& q : st_->queues)
    n += q->pending.size();
  return n;
}

std::size_t memory_transport::unsettled() const {
  std::lock_guard lock{st_->mtx};
  std::size_t n = 0;
  for (auto& q : st_->queues)
    n += q->unacked.size();
  return n;
}
std::size_t memory_transport::rejected() const {
  return st_->rejected;
}

std::shared_ptr<memory_transport> make_transport(settings s) {
  return std::make_shared<memory_transport>(s);
}

}  // namespace brook::memory
