// Every setting of the binary, read from the INI config (all optional) with
// command-line overrides. The only place that knows option names.
#pragma once

#include <string>

#include "core/config.h"
#include "core/http/server.h"
#include "identity/service/identity_service.h"

namespace onestack::app {

struct AppSettings {
  std::string data_dir = "data";
  std::string log_level = "info";
  size_t io_threads = 0;      // 0: one per core
  size_t worker_threads = 0;  // 0: max(4, 2 x cores)
  std::string identity_host = "127.0.0.1";
  uint16_t identity_port = 5000;
  std::string database_path;  // default: <data_dir>/onestack.db
  std::string key_repository; // default: <data_dir>/fernet-keys
  int max_active_keys = 3;
  std::string policy_file;
  bool enforce_new_defaults = false;
  std::string tls_cert_file, tls_key_file;
  http::ServerLimits limits;
  identity::Settings identity;
};

// Reads `cfg`, with `data_dir_override` (if non-empty) taking precedence.
// kInvalidArgument naming the option on a malformed value.
Result<AppSettings> load_settings(const Config& cfg, const std::string& data_dir_override);

}  // namespace onestack::app
