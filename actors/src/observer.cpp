// Several observers on one app (metrics and tracing): one observer that fans out.
#include <brook/detail/string_hash.hpp>
#include <brook/transport.hpp>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "observer_fanout.hpp"

namespace brook {

delivery_trace* current_delivery_trace() noexcept {
  return detail::current_trace().get();
}

namespace detail {

delivery_trace_ptr& current_trace() noexcept {
  thread_local delivery_trace_ptr current;
  return current;
}

namespace {

class fanout_subscription final : public subscription_probe {
public:
  explicit fanout_subscription(std::vector<std::shared_ptr<subscription_probe>> ps)
      : ps_(std::move(ps)) {}
  void received(std::size_t bytes, std::uint64_t count) noexcept override {
    for (auto& p : ps_)
      p->received(bytes, count);
  }
  void processed(processing_status status, std::chrono::nanoseconds took,
                 std::uint64_t count) noexcept override {
    for (auto& p : ps_)
      p->processed(status, took, count);
  }
  void failed(std::string_view exception_type) noexcept override {
    for (auto& p : ps_)
      p->failed(exception_type);
  }
  delivery_trace_ptr trace(const envelope& e) noexcept override {
    for (auto& p : ps_)  // the first observer that traces
      if (auto t = p->trace(e))
        return t;
    return nullptr;
  }

private:
  std::vector<std::shared_ptr<subscription_probe>> ps_;
};

class fanout_publish final : public publish_probe {
public:
  explicit fanout_publish(std::vector<publish_probe*> ps) : ps_(std::move(ps)) {}
  void published(std::uint64_t count, std::chrono::nanoseconds took,
                 std::string_view error_type) noexcept override {
    for (auto* p : ps_)
      p->published(count, took, error_type);
  }
  publish_trace_ptr trace(outgoing& m, delivery_trace* parent) noexcept override {
    for (auto* p : ps_)
      if (auto t = p->trace(m, parent))
        return t;
    return nullptr;
  }

private:
  std::vector<publish_probe*> ps_;
};

class fanout final : public observer {
public:
  explicit fanout(std::vector<observer_ptr> os) : os_(std::move(os)) {}

  std::shared_ptr<subscription_probe> subscription(const subscription_info& info) override {
    std::vector<std::shared_ptr<subscription_probe>> ps;
    for (auto& o : os_)
      if (auto p = o->subscription(info))
        ps.push_back(std::move(p));
    if (ps.size() <= 1)
      return ps.empty() ? nullptr : std::move(ps.front());
    return std::make_shared<fanout_subscription>(std::move(ps));
  }

  publish_probe* destination(std::string_view broker, std::string_view destination) override {
    // Called per publish: a lookup by views, no key built.
    {
      std::shared_lock lock{mtx_};
      if (auto b = probes_.find(broker); b != probes_.end())
        if (auto d = b->second.find(destination); d != b->second.end())
          return d->second.get();
    }
    std::vector<publish_probe*> ps;
    for (auto& o : os_)
      if (auto* p = o->destination(broker, destination))
        ps.push_back(p);
    std::unique_ptr<publish_probe> made;
    if (!ps.empty())
      made = std::make_unique<fanout_publish>(std::move(ps));
    std::unique_lock lock{mtx_};
    auto& slot = probes_[std::string{broker}][std::string{destination}];
    if (!slot)
      slot = std::move(made);
    return slot.get();
  }

  void started(const app& a) override {
    for (auto& o : os_)
      o->started(a);
  }
  void stopped(const app& a) override {
    for (auto& o : os_)
      o->stopped(a);
  }
  std::string exposition() override {
    std::string text;
    for (auto& o : os_)
      text += o->exposition();
    return text;
  }

private:
  std::vector<observer_ptr> os_;
  std::shared_mutex mtx_;
  template <class T>
  using by_name = std::unordered_map<std::string, T, string_hash, std::equal_to<>>;
  by_name<by_name<std::unique_ptr<publish_probe>>> probes_;  ///< by broker, then destination
};

}  // namespace

observer_ptr combine(std::vector<observer_ptr> os) {
  std::erase(os, nullptr);
  if (os.size() <= 1)
    return os.empty() ? nullptr : std::move(os.front());
  return std::make_shared<fanout>(std::move(os));
}

}  // namespace detail
}  // namespace brook
