// The in-memory transport: per-subscription queues, credit, ack semantics.
#include <brook/memory/transport.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <random>

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
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(32, '0');
  for (std::size_t half = 0; half < 2; ++half) {
    auto v = rng();
    for (std::size_t k = 0; k < 16; ++k, v >>= 4)
      s[half * 16 + k] = hex[v & 0xf];
  }
  return s;
}
}  // namespace

envelope to_envelope(const outgoing& m) {
  envelope e;
  e.channel = m.channel;
  e.body = m.body;
  e.correlation_id = m.correlation_id;
  e.reply_to = m.reply_to;
  e.content_type = m.content_type;
  e.message_id = m.message_id.empty() ? random_id() : m.message_id;
  e.headers.reserve(m.headers.size() + 3);
  e.headers.push_back({"correlation_id", m.correlation_id});
  if (!m.content_type.empty())
    e.headers.push_back({"content-type", m.content_type});
  if (!m.reply_to.empty())
    e.headers.push_back({"reply_to", m.reply_to});
  for (auto& kv : m.headers)
    e.headers.set(kv.first, kv.second);
  return e;
}

struct queue;

struct member {
  std::shared_ptr<delivery_sink> sink;
  std::size_t credit = 0;
  bool active = true;
};

struct queue {
  subscription_spec spec;
  std::deque<std::shared_ptr<const envelope>> pending;
  std::vector<std::shared_ptr<member>> members;
  std::size_t next = 0;
};

// recursive: a delivery to a mailbox that just closed destroys the envelope
// inside pump(), and its acknowledger re-queues under the same lock.
struct memory_transport::state : std::enable_shared_from_this<memory_transport::state> {
  settings cfg;
  mutable std::recursive_mutex mtx;
  std::vector<std::shared_ptr<queue>> queues;
  std::map<std::string, std::shared_ptr<delivery_sink>> replies;
  std::atomic<std::size_t> unsettled{0}, rejected{0};
  bool closed = false;

  void pump(const std::shared_ptr<queue>& q);
};

namespace {

class memory_ack final : public acknowledger {
public:
  memory_ack(std::weak_ptr<memory_transport::state> st, std::weak_ptr<queue> q,
             std::shared_ptr<const envelope> original)
    : st_(std::move(st)), q_(std::move(q)), original_(std::move(original)) {}
  ~memory_ack() override {
    // Never lose a message: one dropped without settlement goes back (without
    // pumping: we may be inside a delivery already).
    requeue(false);
  }
  void ack() override {
    if (!done_.exchange(true))
      if (auto st = st_.lock())
        --st->unsettled;
  }
  void nack() override { requeue(true); }
  void reject() override {
    if (done_.exchange(true))
      return;
    if (auto st = st_.lock()) {
      --st->unsettled;
      ++st->rejected;
    }
  }

private:
  void requeue(bool pump) {
    if (done_.exchange(true))
      return;
    auto st = st_.lock();
    auto q = q_.lock();
    if (!st || !q)
      return;
    --st->unsettled;
    std::lock_guard lock{st->mtx};
    auto again = std::make_shared<envelope>(*original_);
    again->metadata["redelivered"] = "1";
    q->pending.push_front(std::move(again));
    if (pump)
      st->pump(q);
  }

  std::weak_ptr<memory_transport::state> st_;
  std::weak_ptr<queue> q_;
  std::shared_ptr<const envelope> original_;
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
    auto original = std::move(q.pending.front());
    q.pending.pop_front();
    auto env = std::make_shared<envelope>(*original);
    ++unsettled;
    // The acknowledger keeps the original for redelivery; `env` is the
    // consumer's copy, which it may move from.
    env->ack = std::make_shared<memory_ack>(weak_from_this(), qs, std::move(original));
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
    std::lock_guard lock{st_->mtx};
    m_->active = false;
    std::erase(q_->members, m_);
    q_->next = 0;
  }
  void request(std::size_t n) override {
    std::lock_guard lock{st_->mtx};
    m_->credit += n;
    st_->pump(q_);
  }

private:
  std::shared_ptr<memory_transport::state> st_;
  std::shared_ptr<queue> q_;
  std::shared_ptr<member> m_;
};

bool same_queue(const subscription_spec& a, const subscription_spec& b) {
  return a.address == b.address && a.pattern == b.pattern && a.group == b.group
         && a.kind == b.kind;
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
    if (same_queue(x->spec, spec) && (!spec.group.empty() || x->members.empty())) {
      q = x;
      break;
    }
  if (!q) {
    q = std::make_shared<queue>();
    q->spec = spec;
    st_->queues.push_back(q);
  }
  auto m = std::make_shared<member>();
  m->sink = std::move(sink);
  q->members.push_back(m);
  return std::make_unique<memory_subscription>(st_, q, m);
}

void memory_transport::publish(outgoing msg, publish_callback done) {
  // Built on the first matching queue only: a publish nobody listens to costs no copy.
  std::shared_ptr<const envelope> env;
  auto get = [&] {
    if (!env)
      env = std::make_shared<const envelope>(to_envelope(msg));
    return env;
  };
  error_info result;
  {
    std::lock_guard lock{st_->mtx};
    if (st_->closed) {
      result = {errc::closed, "memory broker is closed"};
    } else if (auto r = st_->replies.find(msg.channel); r != st_->replies.end()) {
      r->second->deliver(std::make_shared<envelope>(*get()));
    } else {
      for (auto& q : st_->queues) {
        bool hit = q->spec.pattern ? matches(q->spec.address, msg.channel)
                                   : q->spec.address == msg.channel;
        if (!hit)
          continue;
        if (st_->cfg.max_queue && q->pending.size() >= st_->cfg.max_queue) {
          result = {errc::overflow, "queue of '" + q->spec.address + "' holds "
                                      + std::to_string(q->pending.size())
                                      + " messages (settings::max_queue); publish refused"};
          continue;
        }
        q->pending.push_back(get());
        st_->pump(q);
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

std::size_t memory_transport::pending() const {
  std::lock_guard lock{st_->mtx};
  std::size_t n = 0;
  for (auto& q : st_->queues)
    n += q->pending.size();
  return n;
}

std::size_t memory_transport::unsettled() const { return st_->unsettled; }
std::size_t memory_transport::rejected() const { return st_->rejected; }

std::shared_ptr<memory_transport> make_transport(settings s) {
  return std::make_shared<memory_transport>(s);
}

}  // namespace brook::memory
