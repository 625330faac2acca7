// brook's loggers: three named spdlog loggers on one stderr sink, levels per logger, and the
// text (FastStream's access-log columns) or JSON line format.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <brook/logger.hpp>
#include <stdexcept>
#include <string>

namespace brook {

namespace {

constexpr std::string_view text_pattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v";

/// The fields of the line being written on this thread (set by `logger::write`).
thread_local const log_fields* current_fields = nullptr;

class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    namespace json = boost::json;
    auto t = std::chrono::system_clock::to_time_t(msg.time);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[64];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    auto level = spdlog::level::to_string_view(msg.level);
    json::object o{{"time", when},
                   {"level", json::string_view{level.data(), level.size()}},
                   {"logger", json::string_view{msg.logger_name.data(), msg.logger_name.size()}},
                   {"message", json::string_view{msg.payload.data(), msg.payload.size()}}};
    if (auto* f = current_fields) {
      auto put = [&](const char* key, std::string_view v) {
        if (!v.empty())
          o[key] = json::string_view{v.data(), v.size()};
      };
      put("channel", f->channel);
      put("message_id", f->message_id);
      put("correlation_id", f->correlation_id);
      put("handler", f->handler);
      put("trace_id", f->trace_id);
    }
    auto line = json::serialize(o);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

struct loggers {
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  std::array<std::shared_ptr<spdlog::logger>, 3> all;  // brook, brook.access, brook.broker
  std::atomic<bool> json{false};

  loggers() {
    // stderr keeps stdout free for command output such as `docs gen` and `publish --request`.
    sink->set_pattern(std::string{text_pattern});
    std::size_t i = 0;
    for (const char* name : {"brook", "brook.access", "brook.broker"}) {
      all[i] = std::make_shared<spdlog::logger>(name, sink);
      all[i]->set_level(spdlog::level::info);
      ++i;
    }
  }
};

loggers& registry() {
  static loggers instance;
  return instance;
}

spdlog::level::level_enum parse_level(std::string_view s, std::string_view entry) {
  for (int l = spdlog::level::trace; l <= spdlog::level::off; ++l) {
    auto name = spdlog::level::to_string_view(static_cast<spdlog::level::level_enum>(l));
    if (s == std::string_view{name.data(), name.size()})
      return static_cast<spdlog::level::level_enum>(l);
  }
  if (s == "warn" || s == "warning")
    return spdlog::level::warn;
  if (s == "err")
    return spdlog::level::err;
  throw std::invalid_argument("log level '" + std::string{entry} +
                              "': use trace|debug|info|warn|error|critical|off, or NAME=LEVEL "
                              "for one of brook, brook.access, brook.broker");
}

}  // namespace

std::shared_ptr<spdlog::logger> named_logger(std::string_view name) {
  for (auto& l : registry().all)
    if (l->name() == name)
      return l;
  return nullptr;
}
std::shared_ptr<spdlog::logger> default_logger() {
  return registry().all[0];
}
std::shared_ptr<spdlog::logger> access_logger() {
  return registry().all[1];
}
std::shared_ptr<spdlog::logger> broker_logger() {
  return registry().all[2];
}

void set_log_levels(std::string_view spec) {
  auto& r = registry();
  while (!spec.empty()) {
    auto comma = spec.find(',');
    auto entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ')
      entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ')
      entry.remove_suffix(1);
    if (entry.empty())
      continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) {
      auto level = parse_level(entry, entry);
      for (auto& l : r.all)
        l->set_level(level);
      continue;
    }
    auto name = entry.substr(0, eq);
    auto level = parse_level(entry.substr(eq + 1), entry);
    auto l = named_logger(name);
    if (!l)
      throw std::invalid_argument("log level '" + std::string{entry} + "': no logger '" +
                                  std::string{name} +
                                  "' (brook's loggers: brook, brook.access, brook.broker)");
    l->set_level(level);
  }
}

void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto& r = registry();
  if (r.json)
    sink->set_formatter(std::make_unique<json_formatter>());
  else
    sink->set_pattern(std::string{text_pattern});
  for (auto& l : r.all)
    l->sinks().push_back(sink);
}

void remove_log_sink(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  for (auto& l : registry().all)
    std::erase(l->sinks(), sink);
}

void set_log_format(std::string_view format) {
  auto& r = registry();
  if (format != "text" && format != "json")
    throw std::invalid_argument("log format '" + std::string{format} + "': use text or json");
  r.json = format == "json";
  // Every sink of every brook logger (a service may have added its own, e.g. a file).
  for (auto& l : r.all)
    for (auto& sink : l->sinks()) {
      if (r.json)
        sink->set_formatter(std::make_unique<json_formatter>());
      else
        sink->set_pattern(std::string{text_pattern});
    }
}

void logger::write(spdlog::level::level_enum lvl, std::string_view text) const {
  if (!registry().json.load(std::memory_order_relaxed)) {
    impl_->log(lvl, "{} | {} - {}", fields_.channel, fields_.message_id, text);
    return;
  }
  current_fields = &fields_;
  struct reset {
    ~reset() { current_fields = nullptr; }
  } r;
  impl_->log(lvl, spdlog::string_view_t{text.data(), text.size()});
}

}  // namespace brook
