#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace onestack {

namespace {
std::shared_ptr<spdlog::logger>& access_logger_ptr() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("access",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ access %v", spdlog::pattern_time_type::utc);
    return l;
  }();
  return logger;
}
}  // namespace

void init_logging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level == "warning" ? "warn" : level);
  auto main = std::make_shared<spdlog::logger>("onestack",
                                               std::make_shared<spdlog::sinks::stderr_sink_mt>());
  main->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  main->set_level(lvl);
  spdlog::set_default_logger(main);
  access_logger_ptr()->set_level(lvl <= spdlog::level::info ? spdlog::level::info : lvl);
}

spdlog::logger& access_log() { return *access_logger_ptr(); }

}  // namespace onestack
