// Logging: spdlog's default logger for the service log, and one "access"
// logger writing one structured line per request. Nothing secret is ever
// passed to either: request bodies, tokens and passwords are not logged.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace onestack {

// Sets up both loggers to stderr at `level` ("debug", "info", "warning",
// "error"). Call once at start-up, before any thread starts.
void init_logging(const std::string& level);

// The access logger. Thread-safe.
spdlog::logger& access_log();

}  // namespace onestack
