// Every setting of the binary, read from the INI config (all optional) with
// command-line overrides. The only place that knows option names.
#pragma once

#include <string>
#include <vector>

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
  // [database] connection = postgresql://...: identity and object metadata
  // in that PostgreSQL database, shared with every other node ("" : the
  // embedded SQLite files). A libpq URI (an oslo.db "+driver" suffix on the
  // scheme is dropped).
  std::string pg_conninfo;
  size_t pg_max_connections = 32;  // [database] max_pool_size
  // [DEFAULT] node_name: this node's name among the nodes of a cluster
  // (leases of background jobs, its own temp files on a shared volume).
  // Default: "<hostname>-<object port>".
  std::string node_name;
  std::string key_repository;  // default: <data_dir>/fernet-keys
  int max_active_keys = 3;
  std::string policy_file;
  bool enforce_new_defaults = false;
  std::string tls_cert_file, tls_key_file;
  http::ServerLimits limits;
  // Object storage ([object]).
  bool object_enabled = true;
  std::string object_host = "127.0.0.1";
  uint16_t object_port = 8080;
  std::string object_public_url;  // default: http://<object_host>:<object_port>
  std::string object_blob_dir;    // default: <data_dir>/objects
  std::string object_db_path;     // default: <data_dir>/objects.db
  // [object_store] backend: where large objects' bytes live: "local" (the
  // blob directory) or "glusterfs" (a GlusterFS volume through libgfapi).
  std::string blob_backend = "local";
  std::string gluster_volume;                // [object_store] volume
  std::vector<std::string> gluster_servers;  // [object_store] servers: host[:port], comma-separated
  std::string gluster_directory = "/objects";  // [object_store] directory inside the volume
  size_t disk_threads = 64;                    // fsync-bound work: one thread per concurrent upload
  size_t object_inline_max = 65536;  // blobs up to this size live in the database; 0: none
  int object_reaper_interval_ms = 1000;
  int object_auditor_interval_s = 3600;
  int object_auditor_files_per_second = 20;
  int64_t object_auditor_bytes_per_second = 10000000;
  identity::Settings identity;
  // [debug] fault_file: a fault plan (fault/fault_plan.h) the object store
  // and blob store obey, re-read when it changes. For tests only; "" (the
  // default): no fault injection at all.
  std::string fault_file;
};

// Reads `cfg`, with `data_dir_override` (if non-empty) taking precedence.
// kInvalidArgument naming the option on a malformed value.
Result<AppSettings> load_settings(const Config& cfg, const std::string& data_dir_override);

}  // namespace onestack::app
