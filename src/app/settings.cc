#include "app/settings.h"

#include <unistd.h>

#include <cstdio>

namespace onestack::app {

namespace {

// "postgresql", "postgres", or either with an oslo.db driver suffix
// ("postgresql+psycopg2") when `url` starts with one and "://"; else "".
std::string postgres_scheme(const std::string& url) {
  auto colon = url.find("://");
  if (colon == std::string::npos) return "";
  std::string scheme = url.substr(0, colon);
  std::string base = scheme.substr(0, scheme.find('+'));
  return (base == "postgresql" || base == "postgres") ? scheme : "";
}

// "a, b,c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(std::move(item));
    pos = end + 1;
  }
  return out;
}

}  // namespace

Result<AppSettings> load_settings(const Config& cfg, const std::string& data_dir_override) {
  AppSettings s;
  s.data_dir =
      data_dir_override.empty() ? cfg.get("DEFAULT", "data_dir", s.data_dir) : data_dir_override;
  s.log_level = cfg.get("DEFAULT", "log_level", s.log_level);
  auto get_int = [&cfg](const char* sec, const char* key, int64_t def, int64_t lo,
                        int64_t hi) -> Result<int64_t> {
    auto v = cfg.get_int(sec, key, def);
    if (!v.ok()) return v;
    if (*v < lo || *v > hi) {
      return make_error(ErrorCode::kInvalidArgument, std::string("[") + sec + "] " + key +
                                                         ": out of range " + std::to_string(lo) +
                                                         ".." + std::to_string(hi));
    }
    return v;
  };
#define ONESTACK_SETTING(dst, sec, key, lo, hi)                    \
  do {                                                             \
    auto v = get_int(sec, key, static_cast<int64_t>(dst), lo, hi); \
    if (!v.ok()) return std::move(v).error();                      \
    dst = static_cast<decltype(dst)>(*v);                          \
  } while (0)
  ONESTACK_SETTING(s.io_threads, "DEFAULT", "io_threads", 0, 256);
  ONESTACK_SETTING(s.worker_threads, "DEFAULT", "worker_threads", 0, 1024);
  s.identity_host = cfg.get("identity", "bind_host", s.identity_host);
  ONESTACK_SETTING(s.identity_port, "identity", "bind_port", 0, 65535);
  ONESTACK_SETTING(s.identity.bcrypt_rounds, "identity", "password_hash_rounds", 4, 31);
  ONESTACK_SETTING(s.identity.max_password_length, "identity", "max_password_length", 1, 1 << 20);
  ONESTACK_SETTING(s.identity.token_expiration, "token", "expiration", 1, 60LL * 60 * 24 * 365);
  ONESTACK_SETTING(s.identity.allow_expired_window, "token", "allow_expired_window", 0,
                   60LL * 60 * 24 * 365);
  ONESTACK_SETTING(s.max_active_keys, "fernet_tokens", "max_active_keys", 1, 1000);
  ONESTACK_SETTING(s.limits.max_header_bytes, "http", "max_header_bytes", 1024, 1 << 20);
  ONESTACK_SETTING(s.limits.max_header_count, "http", "max_header_count", 8, 10000);
  ONESTACK_SETTING(s.limits.max_body_bytes, "http", "max_json_body_bytes", 1024, 1 << 30);
  int64_t read_ms = s.limits.read_timeout.count(), write_ms = s.limits.write_timeout.count(),
          idle_ms = s.limits.idle_timeout.count();
  ONESTACK_SETTING(read_ms, "http", "read_timeout_ms", 1, 3600000);
  ONESTACK_SETTING(write_ms, "http", "write_timeout_ms", 1, 3600000);
  ONESTACK_SETTING(idle_ms, "http", "idle_timeout_ms", 1, 3600000);
  ONESTACK_SETTING(s.object_port, "object", "bind_port", 0, 65535);
  ONESTACK_SETTING(s.disk_threads, "object", "disk_threads", 1, 1024);
  ONESTACK_SETTING(s.object_inline_max, "object", "inline_max_bytes", 0, 1048576);
  ONESTACK_SETTING(s.object_reaper_interval_ms, "object", "reaper_interval_ms", 10, 3600000);
  ONESTACK_SETTING(s.object_auditor_interval_s, "object", "auditor_interval_s", 1, 86400 * 30);
  ONESTACK_SETTING(s.object_auditor_files_per_second, "object", "auditor_files_per_second", 0,
                   1000000);
  ONESTACK_SETTING(s.object_auditor_bytes_per_second, "object", "auditor_bytes_per_second", 0,
                   int64_t{1} << 40);
  s.limits.read_timeout = std::chrono::milliseconds(read_ms);
  s.limits.write_timeout = std::chrono::milliseconds(write_ms);
  s.limits.idle_timeout = std::chrono::milliseconds(idle_ms);

  std::string connection = cfg.get("database", "connection", "");
  if (connection.empty()) {
    s.database_path = s.data_dir + "/onestack.db";
  } else if (connection.rfind("sqlite:///", 0) == 0) {
    s.database_path = connection.substr(10);
  } else if (auto scheme = postgres_scheme(connection); !scheme.empty()) {
    s.pg_conninfo = "postgresql" + connection.substr(scheme.size());
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "[database] connection: expected sqlite:///PATH or postgresql://...");
  }
  ONESTACK_SETTING(s.pg_max_connections, "database", "max_pool_size", 1, 1000);
  s.key_repository = cfg.get("fernet_tokens", "key_repository", s.data_dir + "/fernet-keys");
  s.policy_file = cfg.get("oslo_policy", "policy_file", "");
  auto strict = cfg.get_bool("oslo_policy", "enforce_new_defaults", false);
  if (!strict.ok()) return std::move(strict).error();
  s.enforce_new_defaults = *strict;
  s.tls_cert_file = cfg.get("ssl", "cert_file", "");
  s.tls_key_file = cfg.get("ssl", "key_file", "");
  if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "[ssl] cert_file and key_file go together");
  }
  std::string scheme = s.tls_cert_file.empty() ? "http" : "https";
  s.identity.public_url =
      cfg.get("identity", "public_url",
              scheme + "://" + s.identity_host + ":" + std::to_string(s.identity_port));
  while (!s.identity.public_url.empty() && s.identity.public_url.back() == '/') {
    s.identity.public_url.pop_back();
  }
  auto object_enabled = cfg.get_bool("object", "enabled", true);
  if (!object_enabled.ok()) return std::move(object_enabled).error();
  s.object_enabled = *object_enabled;
  s.object_host = cfg.get("object", "bind_host", s.object_host);
  s.object_blob_dir = cfg.get("object", "blob_dir", s.data_dir + "/objects");
  s.object_db_path = cfg.get("object", "database", s.data_dir + "/objects.db");
  s.object_public_url = cfg.get(
      "object", "public_url", scheme + "://" + s.object_host + ":" + std::to_string(s.object_port));
  while (!s.object_public_url.empty() && s.object_public_url.back() == '/') {
    s.object_public_url.pop_back();
  }
  s.blob_backend = cfg.get("object_store", "backend", s.blob_backend);
  if (s.blob_backend == "glusterfs") {
    s.gluster_volume = cfg.get("object_store", "volume", "");
    s.gluster_servers = split_list(cfg.get("object_store", "servers", ""));
    s.gluster_directory = cfg.get("object_store", "directory", s.gluster_directory);
    if (s.gluster_volume.empty() || s.gluster_servers.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "[object_store] backend = glusterfs needs volume and servers");
    }
  } else if (s.blob_backend != "local") {
    return make_error(
        ErrorCode::kInvalidArgument,
        "[object_store] backend: expected local or glusterfs, got '" + s.blob_backend + "'");
  }
  s.node_name = cfg.get("DEFAULT", "node_name", "");
  if (s.node_name.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "node");
    s.node_name = std::string(host) + "-" + std::to_string(s.object_port);
  }
  s.identity.shared_store = !s.pg_conninfo.empty();
  s.fault_file = cfg.get("debug", "fault_file", "");
#undef ONESTACK_SETTING
  return s;
}

}  // namespace onestack::app
