// onestack: the command line and the wiring. This is the only place that
// names concrete backends: the embedded ones (SQLite, a local blob
// directory, Fernet keys on disk) and the scale-out ones (PostgreSQL, a
// GlusterFS volume, Fernet keys in the database).
#include <malloc.h>
#include <CLI/CLI.hpp>
#include <boost/asio/ssl/context.hpp>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "app/settings.h"
#include "blob/fs/fs_blob_store.h"
#include "blob/gluster/gluster_blob_store.h"
#include "blob/tiered/tiered_blob_store.h"
#include "core/http/server.h"
#include "core/json.h"
#include "core/log.h"
#include "core/worker_pool.h"
#include "fault/faulty_blob_store.h"
#include "fault/faulty_db.h"
#include "fault/faulty_object_store.h"
#include "identity/api/routes.h"
#include "identity/service/bootstrap.h"
#include "identity/service/default_rules.h"
#include "identity/service/identity_service.h"
#include "identity/service/shared_keys.h"
#include "identity/token/key_repository.h"
#include "identity/token/token_formatter.h"
#include "object/api/routes.h"
#include "object/service/object_service.h"
#include "store/pg/identity_migrations_pg.h"
#include "store/pg/object_store_pg.h"
#include "store/pg/pg_db.h"
#include "store/sql/identity_store_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/object_store_sqlite.h"
#include "store/sqlite/sqlite_db.h"

#ifndef ONESTACK_VERSION
#define ONESTACK_VERSION "0.0.0"
#endif

namespace onestack::app {

namespace fs = std::filesystem;

namespace {

int fail(const std::string& what, const Error& e) {
  spdlog::error("{}: {}", what, e.message);
  return 1;
}

// fail() for the openers below, which answer nullopt.
std::nullopt_t failed(const std::string& what, const Error& e) {
  fail(what, e);
  return std::nullopt;
}

Result<AppSettings> settings_from(const std::string& config_file, const std::string& data_dir) {
  Config cfg;
  if (!config_file.empty()) {
    auto loaded = Config::load_file(config_file);
    if (!loaded.ok()) return std::move(loaded).error();
    cfg = std::move(loaded).value();
  }
  return load_settings(cfg, data_dir);
}

Status prepare_data_dir(const AppSettings& s) {
  std::error_code ec;
  fs::create_directories(s.data_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot create data directory " + s.data_dir + ": " + ec.message());
  }
  fs::permissions(s.data_dir, fs::perms::owner_all, ec);
  // With a shared database the keys live there (shared_keys.h).
  if (!s.pg_conninfo.empty()) return ok_status();
  return identity::token::KeyRepository::setup(s.key_repository, s.max_active_keys);
}

bool shared(const AppSettings& s) { return !s.pg_conninfo.empty(); }

store::pg::PoolOptions pool_options(const AppSettings& s) {
  store::pg::PoolOptions o;
  o.max_connections = s.pg_max_connections;
  return o;
}

// The identity store the settings name: the SQLite file, or the shared
// PostgreSQL database, one store written on the transaction seam either way.
Result<std::unique_ptr<store::sql::SqlIdentityStore>> open_identity_store(const AppSettings& s) {
  std::unique_ptr<store::sql::Db> db;
  if (shared(s)) {
    auto pg = store::pg::PgDb::open(s.pg_conninfo, pool_options(s), "identity",
                                    store::pg::identity_migrations(), "the identity store");
    if (!pg.ok()) return std::move(pg).error();
    db = std::move(pg).value();
  } else {
    auto lite =
        store::sqlite::SqliteDb::open(s.database_path, {}, store::sqlite::schema_migrations());
    if (!lite.ok()) return std::move(lite).error();
    db = std::move(lite).value();
  }
  return std::make_unique<store::sql::SqlIdentityStore>(std::move(db));
}

std::string identity_store_name(const AppSettings& s) {
  return shared(s) ? "database (PostgreSQL)" : "database " + s.database_path;
}

// Re-reads the Fernet keys: from the shared database, or from the key
// repository. On failure the old keys stay in use.
Status reload_keys(const AppSettings& s, store::IdentityStore& store,
                   identity::token::TokenFormatter& formatter) {
  if (!shared(s)) return formatter.reload();
  auto keys = identity::load_shared_keys(store);
  if (!keys.ok()) return std::move(keys).error();
  // The same keys again keep the old set: a new set (even an equal one)
  // would make every cached decoded token miss.
  auto same = [](const identity::token::KeySet& a, const identity::token::KeySet& b) {
    if (a.indexes != b.indexes || a.keys.size() != b.keys.size()) return false;
    for (size_t i = 0; i < a.keys.size(); ++i) {
      if (a.keys[i].signing_key != b.keys[i].signing_key ||
          a.keys[i].encryption_key != b.keys[i].encryption_key) {
        return false;
      }
    }
    return true;
  };
  auto current = formatter.keys();
  if (current == nullptr || !same(*current, **keys)) formatter.set_keys(std::move(keys).value());
  return ok_status();
}

// What serve and routes both open: the identity store and service (keys
// and policy loaded), and the object database with the blob tiers over it.
// Each opener prints why it failed and returns nullopt.
struct IdentityParts {
  std::unique_ptr<store::sql::SqlIdentityStore> store;
  std::unique_ptr<identity::IdentityService> service;
};

std::optional<IdentityParts> open_identity(const AppSettings& s) {
  if (Status st = prepare_data_dir(s); !st.ok()) return failed("data directory", st.error());
  auto store = open_identity_store(s);
  if (!store.ok()) return failed(identity_store_name(s), store.error());
  std::unique_ptr<identity::token::TokenFormatter> formatter;
  if (shared(s)) {
    if (Status st = identity::setup_shared_keys(**store, s.max_active_keys); !st.ok()) {
      return failed("fernet keys in the database", st.error());
    }
    formatter = std::make_unique<identity::token::TokenFormatter>(s.key_repository);
    if (Status st = reload_keys(s, **store, *formatter); !st.ok()) {
      return failed("fernet keys in the database", st.error());
    }
  } else {
    auto opened = identity::token::TokenFormatter::open(s.key_repository);
    if (!opened.ok()) return failed("fernet keys " + s.key_repository, opened.error());
    formatter = std::move(opened).value();
  }
  auto policy = policy::PolicyEngine::load(identity::default_policy_rules(), s.policy_file,
                                           s.enforce_new_defaults);
  if (!policy.ok()) return failed("policy", policy.error());
  IdentityParts parts;
  parts.store = std::move(store).value();
  if (!s.fault_file.empty()) {
    spdlog::warn("fault injection enabled: the identity store obeys {} (a test setting)",
                 s.fault_file);
    parts.store->db().set_fault_hook(
        fault::db_fault_hook(std::make_shared<fault::FaultPlan>(s.fault_file)));
  }
  parts.service = std::make_unique<identity::IdentityService>(
      s.identity, *parts.store, std::move(formatter), std::move(policy).value());
  return parts;
}

struct ObjectParts {
  std::shared_ptr<store::ObjectStore> store;
  std::unique_ptr<blob::BlobStore> blobs;
  // [debug] fault_file: `store` behind fault injection (tests only).
  std::unique_ptr<store::ObjectStore> faulty_store;
  // The store the service uses.
  store::ObjectStore& rows() { return faulty_store ? *faulty_store : *store; }
};

// The large objects' tier the settings name: the local blob directory, or
// a GlusterFS volume.
Result<std::shared_ptr<blob::BlobStore>> open_large_blobs(const AppSettings& s) {
  if (s.blob_backend == "glusterfs") {
    blob::gluster::GlusterOptions o;
    o.volume = s.gluster_volume;
    o.servers = s.gluster_servers;
    o.base_dir = s.gluster_directory;
    o.node_name = s.node_name;
    auto g = blob::gluster::GlusterBlobStore::open(o);
    if (!g.ok()) return std::move(g).error();
    return std::shared_ptr<blob::BlobStore>(std::move(g).value());
  }
  auto local = blob::fs::FsBlobStore::open_dir(s.object_blob_dir);
  if (!local.ok()) return std::move(local).error();
  return std::shared_ptr<blob::BlobStore>(std::move(local).value());
}

std::optional<ObjectParts> open_object_storage(const AppSettings& s) {
  // The metadata store also keeps small objects' bytes (the small tier).
  std::shared_ptr<store::ObjectStore> rows;
  std::shared_ptr<blob::SmallBlobTable> small;
  if (shared(s)) {
    auto os = store::pg::PgObjectStore::open(s.pg_conninfo, pool_options(s));
    if (!os.ok()) return failed("object database (PostgreSQL)", os.error());
    std::shared_ptr<store::pg::PgObjectStore> pg = std::move(os).value();
    rows = pg;
    small = pg;
  } else {
    auto os = store::sqlite::SqliteObjectStore::open(s.object_db_path);
    if (!os.ok()) return failed("object database " + s.object_db_path, os.error());
    std::shared_ptr<store::sqlite::SqliteObjectStore> lite = std::move(os).value();
    rows = lite;
    small = lite;
  }
  auto large = open_large_blobs(s);
  if (!large.ok()) {
    return failed(s.blob_backend == "glusterfs" ? "GlusterFS volume " + s.gluster_volume
                                                : "object blob directory " + s.object_blob_dir,
                  large.error());
  }
  ObjectParts parts;
  parts.store = std::move(rows);
  parts.blobs = std::make_unique<blob::tiered::TieredBlobStore>(
      std::move(small), std::move(large).value(), s.object_inline_max);
  if (!s.fault_file.empty()) {
    spdlog::warn("fault injection enabled: object storage obeys {} (a test setting)", s.fault_file);
    auto plan = std::make_shared<fault::FaultPlan>(s.fault_file);
    parts.faulty_store = std::make_unique<fault::FaultyObjectStore>(parts.store, plan);
    std::shared_ptr<blob::BlobStore> tiers = std::move(parts.blobs);
    parts.blobs = std::make_unique<fault::FaultyBlobStore>(std::move(tiers), plan);
  }
  return parts;
}

// One service this process serves: its listener, its routes, its error
// dialect and its background jobs. serve and routes build the same list
// (open_services), so what `onestack routes` prints is what serve answers;
// a new service is one more builder below.
struct ServiceModule {
  std::string name;  // listener, metrics and `onestack routes` label
  std::string host;
  uint16_t port = 0;
  std::string public_url;  // for the start-up log line
  http::Router router;
  http::ErrorResponder error_responder;
  http::Handler fallback;                                               // may be empty
  std::function<void(const http::Request&, http::Response&)> finalize;  // may be empty
  std::function<void()> start;  // background jobs, once it listens; may be empty
  std::function<void()> stop;   // after the server stopped; may be empty
};

// Everything the services are made of, owned in construction order (the
// modules' routers point into the parts above them).
struct Services {
  std::optional<IdentityParts> identity;
  std::unique_ptr<WorkerPool> pool;  // blocking work of every service
  std::unique_ptr<identity::api::Env> identity_env;
  std::optional<ObjectParts> objects;
  std::unique_ptr<WorkerPool> disk_pool;  // fsync-bound work of uploads
  std::unique_ptr<object::ObjectService> object_service;
  std::unique_ptr<object::api::Env> object_env;
  std::vector<std::unique_ptr<ServiceModule>> modules;
};

std::unique_ptr<ServiceModule> identity_module(const AppSettings& s, Services& svc) {
  auto m = std::make_unique<ServiceModule>();
  m->name = "identity";
  m->host = s.identity_host;
  m->port = s.identity_port;
  m->public_url = s.identity.public_url;
  svc.identity_env = std::make_unique<identity::api::Env>(
      identity::api::Env{*svc.identity->service, *svc.pool, &svc.identity->store->db(), nullptr});
  identity::api::build_router(m->router, *svc.identity_env);
  m->error_responder = identity::api::error_response;
  return m;
}

// Object storage: rows in their own database (object writes never wait
// behind identity writes); small objects' bytes beside the rows, larger
// ones under the blob directory or on the volume; a large pool for the
// fsync-bound work of concurrent uploads. `serving`: recovers what a crash
// left and runs the reaper, auditor and sync jobs.
std::unique_ptr<ServiceModule> object_module(const AppSettings& s, Services& svc, bool serving) {
  svc.objects = open_object_storage(s);
  if (!svc.objects) return nullptr;
  svc.disk_pool = std::make_unique<WorkerPool>(serving ? s.disk_threads : 1);
  object::ObjectConfig ocfg;
  ocfg.reaper_interval_ms = s.object_reaper_interval_ms;
  ocfg.auditor_interval_s = s.object_auditor_interval_s;
  ocfg.auditor_files_per_second = s.object_auditor_files_per_second;
  ocfg.auditor_bytes_per_second = s.object_auditor_bytes_per_second;
  ocfg.node_name = s.node_name;
  // Other nodes write the shared database; a node-local cache of its rows
  // would serve what they replaced.
  if (shared(s)) ocfg.read_cache_bytes = 0;
  svc.object_service = std::make_unique<object::ObjectService>(
      svc.objects->rows(), *svc.objects->blobs, *svc.disk_pool, ocfg);
  if (serving) {
    if (Status st = svc.object_service->recover(); !st.ok()) {
      fail("object recovery", st.error());
      return nullptr;
    }
  }
  svc.object_env = std::make_unique<object::api::Env>(object::api::Env{svc.object_service.get()});
  auto m = std::make_unique<ServiceModule>();
  m->name = "object-store";
  m->host = s.object_host;
  m->port = s.object_port;
  m->public_url = s.object_public_url + "/v1/AUTH_%(project_id)s";
  m->router = object::api::build_router(*svc.object_env);
  m->error_responder = object::api::swift_error;
  m->fallback = object::api::build_fallback(m->router);
  m->finalize = [auth_uri = s.identity.public_url](const http::Request& req, http::Response& res) {
    object::api::finalize_response(req, res, auth_uri);
  };
  object::ObjectService* os = svc.object_service.get();
  m->start = [os] { os->start(); };
  m->stop = [os] { os->stop(); };
  return m;
}

// Opens every enabled service, in the order they listen. nullopt (the
// reason logged) when one cannot open.
std::optional<Services> open_services(const AppSettings& s, bool serving) {
  Services svc;
  svc.identity = open_identity(s);
  if (!svc.identity) return std::nullopt;
  if (Status st = svc.identity->service->refresh(); !st.ok()) {
    return failed("loading identity data", st.error());
  }
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  svc.pool = std::make_unique<WorkerPool>(!serving           ? 1
                                          : s.worker_threads ? s.worker_threads
                                                             : std::max<size_t>(4, 2 * cores));
  svc.modules.push_back(identity_module(s, svc));
  if (s.object_enabled) {
    auto objects = object_module(s, svc, serving);
    if (!objects) return std::nullopt;
    svc.modules.push_back(std::move(objects));
  }
  return svc;
}

std::shared_ptr<boost::asio::ssl::context> tls_context(const AppSettings& s, Status* st) {
  if (s.tls_cert_file.empty()) return nullptr;
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(s.tls_cert_file, ec);
  if (!ec) ctx->use_private_key_file(s.tls_key_file, boost::asio::ssl::context::pem, ec);
  if (ec) *st = make_error(ErrorCode::kInvalidArgument, ec.message());
  return ctx;
}

int run_serve(const AppSettings& s) {
  auto svc = open_services(s, /*serving=*/true);
  if (!svc) return 1;
  identity::IdentityService& identity = *svc->identity->service;

  http::Server server(s.io_threads, s.limits, &identity);
  server.set_blocking_pool(svc->pool.get());
  store::sql::Db& identity_db = svc->identity->store->db();
  server.metrics().add_source([&identity_db](std::string* out) {
    store::sql::render_stats({{"identity", identity_db.stats()}}, out);
  });
  Status tls_status;
  auto tls = tls_context(s, &tls_status);
  if (!tls_status.ok()) return fail("TLS", tls_status.error());
  for (const auto& m : svc->modules) {
    http::ListenerConfig listener;
    listener.service = m->name;
    listener.host = m->host;
    listener.port = m->port;
    listener.router = &m->router;
    listener.error_responder = m->error_responder;
    listener.fallback = m->fallback;
    listener.finalize = m->finalize;
    listener.tls = tls;
    auto port = server.add_listener(std::move(listener));
    if (!port.ok()) return fail(m->name + " listener", port.error());
    spdlog::info("onestack {} {} listening on {}:{} (public URL {})", ONESTACK_VERSION, m->name,
                 m->host, *port, m->public_url);
  }
  for (const auto& m : svc->modules) {
    if (m->start) m->start();
  }

  // Key rotation takes effect without a restart: re-read the repository
  // every few seconds (a failed read keeps the old keys).
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread key_watcher([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return done; })) {
      if (Status st = reload_keys(s, identity.store(), identity.formatter()); !st.ok()) {
        spdlog::warn("fernet key reload failed (old keys kept): {}", st.error().message);
      }
    }
  });
  server.run(true);
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  key_watcher.join();
  for (auto it = svc->modules.rbegin(); it != svc->modules.rend(); ++it) {
    if ((*it)->stop) (*it)->stop();
  }
  if (svc->disk_pool) svc->disk_pool->join();
  svc->pool->join();
  spdlog::info("onestack stopped");
  return 0;
}

// Prints every route of every service, built as serve builds them (stores
// opened, nothing listening, no background jobs), one JSON object a line:
// tests enumerate them so a new route is covered.
int run_routes(const AppSettings& s) {
  auto svc = open_services(s, /*serving=*/false);
  if (!svc) return 1;
  for (const auto& m : svc->modules) {
    for (const http::Route& route : m->router.routes()) {
      boost::json::object line;
      line["service"] = m->name;
      line["method"] = std::string(http::beast_http::to_string(route.method));
      line["pattern"] = route.pattern;
      std::cout << to_json(line) << "\n";
    }
  }
  if (svc->disk_pool) svc->disk_pool->join();
  svc->pool->join();
  return 0;
}

int run_bootstrap(const AppSettings& s, identity::BootstrapOptions opts,
                  const std::string& public_url, const std::string& internal_url,
                  const std::string& admin_url) {
  if (Status st = prepare_data_dir(s); !st.ok()) return fail("data directory", st.error());
  auto store = open_identity_store(s);
  if (!store.ok()) return fail(identity_store_name(s), store.error());
  std::string pub = public_url.empty() ? s.identity.public_url + "/v3/" : public_url;
  opts.services.push_back(identity::ServiceEndpoints{"identity", "keystone", pub,
                                                     internal_url.empty() ? pub : internal_url,
                                                     admin_url.empty() ? pub : admin_url});
  if (s.object_enabled) {
    std::string object_url = s.object_public_url + "/v1/AUTH_%(project_id)s";
    opts.services.push_back(
        identity::ServiceEndpoints{"object-store", "swift", object_url, object_url, object_url});
  }
  opts.bcrypt_rounds = s.identity.bcrypt_rounds;
  if (Status st = identity::bootstrap(**store, opts); !st.ok())
    return fail("bootstrap", st.error());
  std::cout << "bootstrap complete: user '" << opts.username << "' on project '"
            << opts.project_name << "' (domain Default), region " << opts.region_id << "\n";
  return 0;
}

// One rotation of the Fernet keys: in the shared database (every node
// re-reads them within seconds), or in the key repository on disk.
int run_rotate(const AppSettings& s) {
  if (shared(s)) {
    auto store = open_identity_store(s);
    if (!store.ok()) return fail(identity_store_name(s), store.error());
    Status st = identity::setup_shared_keys(**store, s.max_active_keys);
    if (st.ok()) st = identity::rotate_shared_keys(**store, s.max_active_keys);
    if (!st.ok()) return fail("fernet-rotate", st.error());
    std::cout << "rotated keys in the database\n";
    return 0;
  }
  Status st = identity::token::KeyRepository::setup(s.key_repository, s.max_active_keys);
  if (st.ok()) st = identity::token::KeyRepository::rotate(s.key_repository, s.max_active_keys);
  if (!st.ok()) return fail("fernet-rotate", st.error());
  std::cout << "rotated keys in " << s.key_repository << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates under contention its own arena,
  // up to 8 per core, and a freed block returns to its arena, not to the
  // system. The disk pool's threads (64 by default) build listing pages of
  // megabytes; with every one of them holding on to its own arena's peak
  // the process doubled its resident size. Four arenas keep contention low
  // on a few cores and the peak shared. (This tunes glibc's allocator, which
  // serves only builds without jemalloc; see ONESTACK_JEMALLOC.)
  mallopt(M_ARENA_MAX, 4);
  CLI::App cli{"onestack: an open cloud in one binary, speaking OpenStack's APIs"};
  cli.require_subcommand(1);
  std::string config_file, data_dir;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--config-file", config_file, "INI configuration file (optional)");
    sub->add_option("--data-dir", data_dir, "where the database, keys and objects live");
  };
  auto* serve = cli.add_subcommand("serve", "run the cloud's API services");
  add_common(serve);

  identity::BootstrapOptions bopts;
  std::string public_url, internal_url, admin_url;
  auto* boot = cli.add_subcommand("bootstrap",
                                  "create the admin user, project, roles and catalog "
                                  "(as keystone-manage bootstrap)");
  add_common(boot);
  boot->add_option("--bootstrap-password", bopts.password, "the admin user's password")
      ->envname("OS_BOOTSTRAP_PASSWORD");
  boot->add_option("--bootstrap-username", bopts.username, "default: admin");
  boot->add_option("--bootstrap-project-name", bopts.project_name, "default: admin");
  boot->add_option("--bootstrap-role-name", bopts.role_name, "default: admin");
  boot->add_option("--bootstrap-region-id", bopts.region_id, "default: RegionOne");
  boot->add_option("--bootstrap-public-url", public_url, "identity public endpoint URL");
  boot->add_option("--bootstrap-internal-url", internal_url, "identity internal endpoint URL");
  boot->add_option("--bootstrap-admin-url", admin_url, "identity admin endpoint URL");

  auto* rotate = cli.add_subcommand("fernet-rotate",
                                    "rotate the Fernet token keys "
                                    "(as keystone-manage fernet_rotate)");
  add_common(rotate);
  auto* routes = cli.add_subcommand("routes", "print every API route as JSON lines");
  add_common(routes);
  auto* version = cli.add_subcommand("version", "print the version");

  CLI11_PARSE(cli, argc, argv);
  if (version->parsed()) {
    std::cout << "onestack " << ONESTACK_VERSION << "\n";
    return 0;
  }
  auto settings = settings_from(config_file, data_dir);
  if (!settings.ok()) {
    init_logging("info");
    return fail("configuration", settings.error());
  }
  init_logging(settings->log_level);
  if (serve->parsed()) return run_serve(*settings);
  if (routes->parsed()) return run_routes(*settings);
  if (boot->parsed()) return run_bootstrap(*settings, bopts, public_url, internal_url, admin_url);
  if (rotate->parsed()) {
    return run_rotate(*settings);
  }
  return 1;
}

}  // namespace onestack::app

int main(int argc, char** argv) { return onestack::app::main(argc, argv); }
