#include <brook/detail/forwarding_transport.hpp>
#include <brook/memory/transport.hpp>
#include <brook/testing/test_broker.hpp>
#include <stdexcept>
#include <thread>

namespace brook::testing {

// Records every publish, then forwards to the real (or in-memory) transport.
class test_broker::recorder final : public detail::forwarding_transport {
public:
  using forwarding_transport::forwarding_transport;
  void publish(outgoing msg, publish_callback done) override {
    {
      std::lock_guard lock{mtx};
      log.push_back(msg);
    }
    forwarding_transport::publish(std::move(msg), std::move(done));
  }

  mutable std::mutex mtx;
  std::vector<outgoing> log;
};

void test_broker::swap_in(broker& b) {
  std::shared_ptr<transport> inner = b.get_transport();
  // The real driver's rules for kinds and options hold in tests too.
  for (auto& d : b.subscriber_decls())
    if (auto err = inner->validate(d->spec))
      throw std::invalid_argument("subscriber '" + d->spec.address + "': " + err.to_string());
  if (auto existing = std::dynamic_pointer_cast<memory::memory_transport>(inner)) {
    memories_.push_back(existing);  // already in memory: keep it, so its counters stay the broker's
  } else if (!opts_.with_real) {
    // Each typed spec brings its driver's delivery semantics (capabilities) along.
    auto fresh = memory::make_transport({.max_queue = 0,
                                         .glob_patterns = b.glob_patterns(),
                                         .wildcard_names = b.wildcard_names(),
                                         .default_kind = b.default_kind()});
    memories_.push_back(fresh);
    inner = inner->emulate(fresh);  // the driver's own calls (seek, key-value) emulated
  }
  auto rec = std::make_shared<recorder>(inner);
  recorders_.push_back(rec);
  saved_.emplace_back(&b, b.swap_transport(rec));
  for (auto& d : b.subscriber_decls()) {
    auto log = std::make_shared<call_log>();
    d->record_call = [log](boost::json::value v) { log->add(std::move(v)); };
    calls_.emplace_back(d.get(), std::move(log));
  }
}

test_broker::test_broker(broker& b, test_options o) : broker_(&b), opts_(o) {
  swap_in(b);
  own_ = std::make_unique<detail::runtime>(o.workers);
  own_->start_broker(b, {}, nullptr);
}

test_broker::test_broker(app& a, test_options o)
    : broker_(&a.brokers().front().get()), app_(&a), opts_(o) {
  for (auto& b : a.brokers())
    swap_in(b.get());
  run_options ro;
  ro.workers = o.workers;
  ro.log_level = spdlog::level::to_string_view(default_logger()->level()).data();
  a.start(ro);
}

test_broker::~test_broker() {
  if (app_)
    app_->stop();
  else
    own_->stop(std::chrono::seconds{5});
  own_.reset();
  for (auto& [b, t] : saved_)
    b->swap_transport(t);
  for (auto& [b, t] : saved_)
    for (auto& d : b->subscriber_decls())
      d->record_call = nullptr;
}

detail::runtime& test_broker::runtime() const {
  return app_ ? *app_->runtime() : *own_;
}

handler_probe test_broker::handler(std::string_view address) const {
  for (auto& [d, log] : calls_)
    if (d->spec.address == address)
      return handler_probe{log};
  throw std::invalid_argument("test_broker: no subscriber on '" + std::string{address} + "'");
}

std::vector<outgoing> test_broker::published_raw(std::string_view channel) const {
  std::vector<outgoing> out;
  for (auto& r : recorders_) {
    std::lock_guard lock{r->mtx};
    for (auto& m : r->log)
      if (m.channel == channel)
        out.push_back(m);
  }
  return out;
}

detail::subscriber_snapshot test_broker::stats(std::string_view address) const {
  for (auto& s : runtime().stats())
    if (s.address == address)
      return s;
  throw std::invalid_argument("test_broker: no subscriber on '" + std::string{address} + "'");
}

bool test_broker::wait_idle(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool idle = true;
    for (auto& m : memories_)
      idle = idle && m->pending() == 0 && m->unsettled() == 0;
    for (auto& s : runtime().stats())
      idle = idle && s.in_flight == 0 && s.held == 0;
    if (idle)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

}  // namespace brook::testing
