// Tracing: FastStream's spans around the core's deliveries and publishes, W3C propagation in
// the message headers, and a bounded queue an exporter thread drains.
#include <atomic>
#include <brook/app.hpp>
#include <brook/detail/string_hash.hpp>
#include <brook/logger.hpp>
#include <brook/telemetry/tracing.hpp>
#include <brook/transport.hpp>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "otlp.hpp"

namespace brook::telemetry {

const span_attribute* span_data::attribute(std::string_view key) const noexcept {
  for (auto& a : attributes)
    if (a.key == key)
      return &a;
  return nullptr;
}

namespace {

bool is_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

bool all_zero(std::string_view s) noexcept {
  return s.find_first_not_of('0') == std::string_view::npos;
}

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 gen{
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(bytes * 2, '0');
  do {
    for (std::size_t i = 0; i < bytes; i += 8) {
      auto v = gen();
      for (std::size_t k = 0; k < 8 && i + k < bytes; ++k, v >>= 8) {
        out[2 * (i + k)] = digits[(v >> 4) & 0xf];
        out[2 * (i + k) + 1] = digits[v & 0xf];
      }
    }
  } while (all_zero(out));  // an all-zero id is invalid
  return out;
}

std::uint64_t now_unix_nano() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string header_or_empty(const headers& h, std::string_view key) {
  auto* v = h.find(key);
  return v ? *v : std::string{};
}

std::string default_endpoint() {
  if (const char* e = std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); e && *e)
    return e;
  if (const char* e = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); e && *e) {
    std::string base = e;
    while (!base.empty() && base.back() == '/')
      base.pop_back();
    return base + "/v1/traces";
  }
  return "http://127.0.0.1:4318/v1/traces";
}

/// What a child span needs of its parent.
struct span_context {
  std::string trace_id, span_id, trace_state, baggage;
  bool sampled = true;
};

}  // namespace

std::optional<trace_parent> trace_parent::parse(std::string_view h) noexcept {
  // version "-" trace-id "-" parent-id "-" flags; a future version may append fields.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  auto version = h.substr(0, 2), trace = h.substr(3, 32), span = h.substr(36, 16),
       flags = h.substr(53, 2);
  if (!is_hex(version) || version == "ff" || !is_hex(trace) || !is_hex(span) || !is_hex(flags))
    return std::nullopt;
  if (all_zero(trace) || all_zero(span))
    return std::nullopt;
  if (version == "00" && h.size() != 55)
    return std::nullopt;
  if (h.size() > 55 && h[55] != '-')
    return std::nullopt;
  auto low = flags[1];
  bool sampled = (low >= '0' && low <= '9' ? low - '0' : low - 'a' + 10) & 1;
  return trace_parent{std::string{trace}, std::string{span}, sampled};
}

std::string trace_parent::to_header() const {
  return "00-" + trace_id + "-" + span_id + (sampled ? "-01" : "-00");
}

struct tracing::impl {
  tracing_options opts;
  std::string endpoint_host, endpoint_target;
  unsigned short endpoint_port = 0;
  std::mutex name_mtx;
  std::string service_name;

  std::mutex mtx;
  std::condition_variable wake, flushed;
  std::vector<span_data> queue;
  std::uint64_t queued_total = 0, done_total = 0;  // spans ever queued / exported or lost
  bool stopping = false, flush_asked = false;
  bool failing = false;  // the last export failed (the exporter thread's own)
  std::thread worker;

  std::atomic<std::uint64_t> spans{0}, exported{0}, dropped{0}, export_failures{0};

  explicit impl(tracing_options o) : opts(std::move(o)) {
    if (!opts.exporter) {
      auto url = opts.endpoint.empty() ? default_endpoint() : opts.endpoint;
      auto target = detail::parse_http_url(url, endpoint_host, endpoint_port);
      if (!target)
        throw std::invalid_argument("tracing: the OTLP endpoint '" + url +
                                    "' is not an http://host:port/path URL (set "
                                    "tracing_options::endpoint or OTEL_EXPORTER_OTLP_ENDPOINT)");
      endpoint_target = std::move(*target);
    }
    service_name = opts.service_name;
    if (opts.max_batch == 0)
      opts.max_batch = 1;
    worker = std::thread{[this] { run(); }};
  }
  ~impl() {
    {
      std::lock_guard lock{mtx};
      stopping = true;
    }
    wake.notify_all();
    worker.join();
  }

  std::string name() {
    std::lock_guard lock{name_mtx};
    return service_name;
  }

  bool sample_new() const {
    if (opts.sample_ratio >= 1.0)
      return true;
    if (opts.sample_ratio <= 0.0)
      return false;
    thread_local std::minstd_rand gen{std::random_device{}()};
    return std::uniform_real_distribution<double>{0.0, 1.0}(gen) < opts.sample_ratio;
  }

  void finish(span_data&& s) {
    spans.fetch_add(1, std::memory_order_relaxed);
    bool full_batch = false;
    {
      std::lock_guard lock{mtx};
      if (queue.size() >= opts.max_queue) {
        dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue.push_back(std::move(s));
      ++queued_total;
      full_batch = queue.size() == opts.max_batch;  // wake the exporter once per batch
    }
    if (full_batch)
      wake.notify_one();
  }

  bool export_batch(const std::vector<span_data>& batch, const std::string& svc) {
    if (opts.exporter)
      return opts.exporter(batch, svc);
    return detail::post_json(endpoint_host, endpoint_port, endpoint_target,
                             tracing::otlp_json(batch, svc), opts.export_timeout);
  }

  void run() {
    std::unique_lock lock{mtx};
    std::vector<span_data> taken;
    for (;;) {
      wake.wait_for(lock, opts.flush_interval,
                    [&] { return stopping || flush_asked || queue.size() >= opts.max_batch; });
      if (queue.empty()) {
        flush_asked = false;
        flushed.notify_all();
        if (stopping)
          return;
        continue;
      }
      // Everything queued at once (finishing spans never wait on an export), then exported in
      // batches of at most `max_batch`.
      taken.clear();
      taken.swap(queue);
      lock.unlock();
      std::vector<span_data> batch;
      for (std::size_t at = 0; at < taken.size(); at += opts.max_batch) {
        auto end = std::min(taken.size(), at + opts.max_batch);
        batch.assign(std::make_move_iterator(taken.begin() + static_cast<long>(at)),
                     std::make_move_iterator(taken.begin() + static_cast<long>(end)));
        bool ok = false;
        try {
          ok = export_batch(batch, name());
        } catch (...) {
          ok = false;
        }
        if (ok)
          exported.fetch_add(batch.size(), std::memory_order_relaxed);
        else
          export_failures.fetch_add(1, std::memory_order_relaxed);
        report(ok, batch.size());
      }
      lock.lock();
      done_total += taken.size();
      if (queue.empty())
        flush_asked = false;
      flushed.notify_all();
    }
  }

  /// Says so once when exports start failing, and once when they work again.
  void report(bool ok, std::size_t spans_in_batch) {
    if (ok == !failing)
      return;
    failing = !ok;
    auto where = opts.exporter ? std::string{"the exporter"}
                               : "http://" + endpoint_host + ":" + std::to_string(endpoint_port) +
                                     endpoint_target;
    if (failing)
      default_logger()->warn(
          "tracing: {} did not accept {} spans; they are lost (counted in stats().export_failures) "
          "until it does. Is the collector running? (OTEL_EXPORTER_OTLP_ENDPOINT)",
          where, spans_in_batch);
    else
      default_logger()->info("tracing: {} accepts spans again", where);
  }

  bool flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock{mtx};
    auto target = queued_total;
    flush_asked = true;
    wake.notify_one();
    return flushed.wait_for(lock, timeout, [&] { return done_total >= target; });
  }
};

namespace {

using impl_ptr = std::shared_ptr<tracing::impl>;

/// A span being recorded (null `data` when not sampled: the context still propagates).
struct open_span {
  span_context ctx;
  std::unique_ptr<span_data> data;
};

/// Starts a span named `name`, the child of `parent` (a root when null).
open_span start_span(tracing::impl& t, std::string name, span_data::kind kind,
                     const span_context* parent, std::vector<span_attribute> attrs) {
  open_span s;
  if (parent) {
    s.ctx.trace_id = parent->trace_id;
    s.ctx.trace_state = parent->trace_state;
    s.ctx.baggage = parent->baggage;
    s.ctx.sampled = parent->sampled;
  } else {
    s.ctx.trace_id = random_hex(16);
    s.ctx.sampled = t.sample_new();
  }
  s.ctx.span_id = random_hex(8);
  if (s.ctx.sampled) {
    s.data = std::make_unique<span_data>();
    auto& d = *s.data;
    d.trace_id = s.ctx.trace_id;
    d.span_id = s.ctx.span_id;
    d.parent_span_id = parent ? parent->span_id : std::string{};
    d.trace_state = s.ctx.trace_state;
    d.name = std::move(name);
    d.span_kind = kind;
    d.start_unix_nano = now_unix_nano();
    d.attributes = std::move(attrs);
  }
  return s;
}

void end_span(tracing::impl& t, open_span& s) {
  if (!s.data)
    return;
  s.data->end_unix_nano = now_unix_nano();
  t.finish(std::move(*s.data));
  s.data.reset();
}

/// The remote parent a message's headers name, if any.
std::optional<span_context> extract(const headers& h) {
  auto* tp = h.find("traceparent");
  if (!tp)
    return std::nullopt;
  auto p = trace_parent::parse(*tp);
  if (!p)
    return std::nullopt;
  span_context c;
  c.trace_id = std::move(p->trace_id);
  c.span_id = std::move(p->span_id);
  c.sampled = p->sampled;
  c.trace_state = header_or_empty(h, "tracestate");
  c.baggage = header_or_empty(h, "baggage");
  return c;
}

// GCC 12 warns that a moved std::variant<std::string, ...> "may be used uninitialized" here
// (a known false positive of its variant move at -O2); the values are always constructed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
class delivery_span final : public delivery_trace {
public:
  delivery_span(impl_ptr t, open_span s) : t_(std::move(t)), s_(std::move(s)) {}
  ~delivery_span() override {
    if (s_.data)  // never settled (its actor died): still exported, as unfinished work
      end(processing_status::error, "abandoned");
  }
  void end(processing_status status, std::string_view exception_type) noexcept override {
    if (ended_.exchange(true) || !s_.data)
      return;
    try {
      auto& d = *s_.data;
      d.attributes.push_back({"messaging.brook.status", std::string{to_string(status)}});
      if (!exception_type.empty()) {
        d.error = true;
        d.status_message = std::string{exception_type};
        auto& e = d.events.emplace_back();
        e.name = "exception";
        e.time_unix_nano = now_unix_nano();
        e.attributes.reserve(2);
        e.attributes.push_back(span_attribute{"exception.type", std::string{exception_type}});
        e.attributes.push_back(span_attribute{"exception.escaped", false});
        d.attributes.push_back(span_attribute{"error.type", std::string{exception_type}});
      }
      end_span(*t_, s_);
    } catch (...) {  // out of memory: the span is lost, the message is not
    }
  }
  std::string_view trace_id() const noexcept override { return s_.ctx.trace_id; }
  const span_context& context() const noexcept { return s_.ctx; }

private:
  impl_ptr t_;
  open_span s_;
  std::atomic<bool> ended_{false};
};

#pragma GCC diagnostic pop

class publish_span final : public publish_trace {
public:
  publish_span(impl_ptr t, open_span s) : t_(std::move(t)), s_(std::move(s)) {}
  void end(std::string_view error_type) noexcept override {
    if (ended_.exchange(true) || !s_.data)
      return;
    try {
      if (!error_type.empty()) {
        s_.data->error = true;
        s_.data->status_message = std::string{error_type};
        s_.data->attributes.push_back({"error.type", std::string{error_type}});
      }
      end_span(*t_, s_);
    } catch (...) {
    }
  }

private:
  impl_ptr t_;
  open_span s_;
  std::atomic<bool> ended_{false};
};

class subscription_tracer final : public subscription_probe {
public:
  subscription_tracer(impl_ptr t, std::string system)
      : t_(std::move(t)), system_(std::move(system)) {}
  void received(std::size_t, std::uint64_t) noexcept override {}
  void processed(processing_status, std::chrono::nanoseconds, std::uint64_t) noexcept override {}
  void failed(std::string_view) noexcept override {}

  delivery_trace_ptr trace(const envelope& e) noexcept override {
    try {
      return open(e);
    } catch (...) {
      return nullptr;
    }
  }

private:
  delivery_trace_ptr open(const envelope& e) {
    const bool batch = !e.batch.empty();
    const auto& first = batch ? *e.batch.front() : e;
    const std::string& destination = first.channel;
    std::vector<span_attribute> attrs{
        {"messaging.system", system_},
        {"messaging.message.id", e.message_id},
        {"messaging.message.conversation_id", e.correlation_id},
        {"messaging.message.payload_size_bytes", static_cast<std::int64_t>(e.body.size())},
        {"messaging.destination_publish.name", destination},
    };
    if (batch)
      attrs.push_back({"messaging.batch.message_count", static_cast<std::int64_t>(e.batch.size())});
    if (e.delivery.partition >= 0)
      attrs.push_back({"messaging.kafka.destination.partition",
                       static_cast<std::int64_t>(e.delivery.partition)});

    std::optional<span_context> parent;
    std::vector<span_data::link> links;
    std::string baggage;
    if (batch) {
      // A batch starts its own trace, linked to each member's (FastStream's links), one link
      // per distinct parent with how many members it stands for.
      std::vector<std::pair<span_context, std::int64_t>> seen;
      for (auto& m : e.batch) {
        if (auto c = extract(m->headers)) {
          if (baggage.empty())
            baggage = c->baggage;
          auto same = std::find_if(seen.begin(), seen.end(), [&](auto& s) {
            return s.first.trace_id == c->trace_id && s.first.span_id == c->span_id;
          });
          if (same != seen.end())
            ++same->second;
          else
            seen.emplace_back(std::move(*c), 1);
        }
      }
      for (auto& [c, n] : seen) {
        span_data::link l{c.trace_id, c.span_id, {}};
        if (n > 1)
          l.attributes.push_back({"messaging.batch.message_count", n});
        links.push_back(std::move(l));
      }
    } else {
      parent = extract(e.headers);
    }
    if (!parent) {
      // No context came with it: a `create` span is the root, as in FastStream.
      auto create =
          start_span(*t_, destination + " create", span_data::kind::consumer, nullptr, attrs);
      if (create.data)
        create.data->links = std::move(links);
      create.ctx.baggage = std::move(baggage);
      parent = create.ctx;
      end_span(*t_, create);
    }
    attrs.push_back({"messaging.operation", std::string{"process"}});
    auto s = start_span(*t_, destination + " process", span_data::kind::consumer, &*parent,
                        std::move(attrs));
    return std::make_shared<delivery_span>(t_, std::move(s));
  }

  impl_ptr t_;
  std::string system_;
};

class publish_tracer final : public publish_probe {
public:
  publish_tracer(impl_ptr t, std::string system) : t_(std::move(t)), system_(std::move(system)) {}
  void published(std::uint64_t, std::chrono::nanoseconds, std::string_view) noexcept override {}

  publish_trace_ptr trace(outgoing& m, delivery_trace* parent) noexcept override {
    try {
      return open(m, parent);
    } catch (...) {
      return nullptr;
    }
  }

private:
  publish_trace_ptr open(outgoing& m, delivery_trace* parent) {
    std::optional<span_context> from;
    if (auto* d = dynamic_cast<delivery_span*>(parent))
      from = d->context();
    else
      from = extract(m.headers);  // a context the caller put there (forwarding a message)
    std::vector<span_attribute> attrs{
        {"messaging.system", system_},
        {"messaging.destination.name", m.channel},
        {"messaging.message.conversation_id", m.correlation_id},
    };
    auto create = start_span(*t_, m.channel + " create", span_data::kind::producer,
                             from ? &*from : nullptr, attrs);
    m.headers.set(
        "traceparent",
        trace_parent{create.ctx.trace_id, create.ctx.span_id, create.ctx.sampled}.to_header());
    if (!create.ctx.trace_state.empty())
      m.headers.set("tracestate", create.ctx.trace_state);
    if (!create.ctx.baggage.empty() && !m.headers.find("baggage"))
      m.headers.set("baggage", create.ctx.baggage);
    auto ctx = create.ctx;
    end_span(*t_, create);
    attrs.push_back({"messaging.operation", std::string{"publish"}});
    auto s =
        start_span(*t_, m.channel + " publish", span_data::kind::producer, &ctx, std::move(attrs));
    return std::make_shared<publish_span>(t_, std::move(s));
  }

  impl_ptr t_;
  std::string system_;
};

class tracing_observer final : public observer {
public:
  explicit tracing_observer(impl_ptr t) : t_(std::move(t)) {}

  std::shared_ptr<subscription_probe> subscription(const subscription_info& info) override {
    return std::make_shared<subscription_tracer>(t_, std::string{info.broker});
  }
  publish_probe* destination(std::string_view broker, std::string_view destination) override {
    (void)destination;  // the span names come from each message
    {
      std::shared_lock lock{mtx_};
      if (auto i = probes_.find(broker); i != probes_.end())
        return i->second.get();
    }
    std::unique_lock lock{mtx_};
    auto& slot = probes_[std::string{broker}];
    if (!slot)
      slot = std::make_unique<publish_tracer>(t_, std::string{broker});
    return slot.get();
  }
  void started(const app& a) override {
    std::lock_guard lock{t_->name_mtx};
    if (t_->service_name.empty())
      t_->service_name = a.info().title;
  }
  void stopped(const app&) override { t_->flush(t_->opts.export_timeout); }

private:
  impl_ptr t_;
  std::shared_mutex mtx_;
  std::unordered_map<std::string, std::unique_ptr<publish_tracer>, brook::detail::string_hash,
                     std::equal_to<>>
      probes_;
};

}  // namespace

tracing::tracing(tracing_options o) : impl_(std::make_shared<impl>(std::move(o))) {}

observer_ptr tracing::observer() const {
  return std::make_shared<tracing_observer>(impl_);
}

bool tracing::flush(std::chrono::milliseconds timeout) const {
  return impl_->flush(timeout);
}

tracing_stats tracing::stats() const {
  return {impl_->spans.load(), impl_->exported.load(), impl_->dropped.load(),
          impl_->export_failures.load()};
}

}  // namespace brook::telemetry
