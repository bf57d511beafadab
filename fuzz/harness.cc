#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "blob/fs/fs_blob_store.h"
#include "blob/tiered/tiered_blob_store.h"
#include "core/http/server.h"
#include "core/log.h"
#include "core/worker_pool.h"
#include "identity/api/routes.h"
#include "identity/service/bootstrap.h"
#include "identity/service/default_rules.h"
#include "identity/service/identity_service.h"
#include "identity/token/key_repository.h"
#include "identity/token/token_formatter.h"
#include "object/api/common.h"
#include "object/api/routes.h"
#include "object/service/object_service.h"
#include "store/sql/identity_store_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/object_store_sqlite.h"
#include "store/sqlite/sqlite_db.h"

namespace onestack::fuzz {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

// Everything lives until the process exits: the server's threads keep
// running between inputs, and libFuzzer exits without unwinding.
struct World {
  std::unique_ptr<store::sql::SqlIdentityStore> identity_store;
  std::unique_ptr<identity::IdentityService> identity;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<identity::api::Env> identity_env;
  http::Router identity_router;
  std::shared_ptr<store::sqlite::SqliteObjectStore> object_store;
  std::unique_ptr<blob::BlobStore> blobs;
  std::unique_ptr<WorkerPool> disk_pool;
  std::unique_ptr<object::ObjectService> object_service;
  std::unique_ptr<object::api::Env> object_env;
  http::Router object_router;
  std::unique_ptr<http::Server> server;
  std::thread thread;
  Harness h;
};

World* world = nullptr;
fs::path world_dir;

// At exit (libFuzzer's normal end of a run), before any static object of
// the libraries goes away: stop the server, wait for its thread, and remove
// the temporary directory.
void stop_world() {
  world->server->stop();
  world->thread.join();
  std::error_code ec;
  fs::remove_all(world_dir, ec);
}

Harness start() {
  spdlog::set_level(spdlog::level::off);
  access_log().set_level(spdlog::level::off);
  // SQLite commits with synchronous=FULL: on tmpfs an fsync costs nothing,
  // on a disk it would bound the run at a few inputs a second.
  std::error_code shm_ec;
  fs::path parent = fs::is_directory("/dev/shm", shm_ec) && access("/dev/shm", W_OK) == 0
                        ? fs::path("/dev/shm")
                        : fs::temp_directory_path();
  std::string tmpl = (parent / "onestack-fuzz-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) die("mkdtemp failed");
  fs::path dir(tmpl);
  world_dir = dir;
  auto* w = new World();  // never freed: see World
  world = w;

  const fs::path keys = dir / "fernet-keys";
  if (Status st = identity::token::KeyRepository::setup(keys, 3); !st.ok()) die(st.error().message);
  auto db = store::sqlite::SqliteDb::open((dir / "identity.db").string(), {},
                                          store::sqlite::schema_migrations());
  if (!db.ok()) die(db.error().message);
  w->identity_store = std::make_unique<store::sql::SqlIdentityStore>(std::move(db).value());
  identity::BootstrapOptions boot;
  boot.password = "fuzz-admin-secret";
  boot.bcrypt_rounds = 4;
  boot.services.push_back(
      identity::ServiceEndpoints{"identity", "keystone", "http://127.0.0.1:5000/v3/",
                                 "http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/"});
  if (Status st = identity::bootstrap(*w->identity_store, boot); !st.ok()) die(st.error().message);
  auto formatter = identity::token::TokenFormatter::open(keys);
  if (!formatter.ok()) die(formatter.error().message);
  auto policy = policy::PolicyEngine::load(identity::default_policy_rules(), "", false);
  if (!policy.ok()) die(policy.error().message);
  identity::Settings settings;
  settings.bcrypt_rounds = 4;
  w->identity = std::make_unique<identity::IdentityService>(
      settings, *w->identity_store, std::move(formatter).value(), std::move(policy).value());
  if (Status st = w->identity->refresh(); !st.ok()) die(st.error().message);
  w->pool = std::make_unique<WorkerPool>(2);
  w->identity_env = std::make_unique<identity::api::Env>(
      identity::api::Env{*w->identity, *w->pool, &w->identity_store->db(), nullptr});
  identity::api::build_router(w->identity_router, *w->identity_env);

  auto os = store::sqlite::SqliteObjectStore::open((dir / "object.db").string());
  if (!os.ok()) die(os.error().message);
  w->object_store = std::move(os).value();
  // Durability is not what is fuzzed: skip the fsyncs.
  blob::fs::FsBlobStore::Options bo;
  bo.fdatasync = [](int) { return 0; };
  bo.fsync_dir = [](int) { return 0; };
  auto bs = blob::fs::FsBlobStore::open_dir((dir / "blobs").string(), bo);
  if (!bs.ok()) die(bs.error().message);
  w->blobs =
      std::make_unique<blob::tiered::TieredBlobStore>(w->object_store, std::move(bs).value(), 4096);
  w->disk_pool = std::make_unique<WorkerPool>(2);
  object::ObjectConfig ocfg;
  w->object_service =
      std::make_unique<object::ObjectService>(*w->object_store, *w->blobs, *w->disk_pool, ocfg);
  if (Status st = w->object_service->recover(); !st.ok()) die(st.error().message);
  w->object_env = std::make_unique<object::api::Env>(object::api::Env{w->object_service.get()});
  w->object_router = object::api::build_router(*w->object_env);

  http::ServerLimits limits;
  limits.read_timeout = std::chrono::milliseconds(2000);
  limits.write_timeout = std::chrono::milliseconds(2000);
  limits.idle_timeout = std::chrono::milliseconds(2000);
  w->server = std::make_unique<http::Server>(1, limits, w->identity.get());
  http::ListenerConfig il;
  il.service = "identity";
  il.router = &w->identity_router;
  il.error_responder = identity::api::error_response;
  auto iport = w->server->add_listener(std::move(il));
  if (!iport.ok()) die(iport.error().message);
  http::ListenerConfig ol;
  ol.service = "object-store";
  ol.router = &w->object_router;
  ol.error_responder = object::api::swift_error;
  ol.fallback = object::api::build_fallback(w->object_router);
  ol.finalize = [](const http::Request& req, http::Response& res) {
    object::api::finalize_response(req, res, "http://127.0.0.1:5000");
  };
  auto oport = w->server->add_listener(std::move(ol));
  if (!oport.ok()) die(oport.error().message);
  w->h.identity_port = *iport;
  w->h.object_port = *oport;
  w->thread = std::thread([w] { w->server->run(false); });
  std::atexit(stop_world);

  // A project-scoped token for the admin, asked for as any client would.
  std::string body =
      R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin",)"
      R"("domain":{"id":"default"},"password":"fuzz-admin-secret"}}},"scope":{"project":)"
      R"({"name":"admin","domain":{"id":"default"}}}}})";
  std::string raw = roundtrip(
      w->h.identity_port,
      request("POST", "/v3/auth/tokens", "Content-Type: application/json\r\n", body, false));
  if (status_of(raw) != 201) die("token request failed: " + raw);
  auto tok = raw.find("X-Subject-Token: ");
  if (tok == std::string::npos) die("no X-Subject-Token: " + raw);
  tok += 17;
  w->h.token = raw.substr(tok, raw.find("\r\n", tok) - tok);
  auto body_at = raw.find("\r\n\r\n");
  boost::system::error_code ec;
  auto doc = boost::json::parse(raw.substr(body_at + 4), ec);
  if (ec) die("token body is not JSON: " + raw);
  w->h.project_id = doc.at("token").at("project").at("id").as_string().c_str();
  w->h.user_id = doc.at("token").at("user").at("id").as_string().c_str();
  w->h.account = "AUTH_" + w->h.project_id;
  return w->h;
}

}  // namespace

const Harness& harness() {
  static const Harness h = start();
  return h;
}

std::string roundtrip(uint16_t port, std::string_view bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect failed");
  std::string out;
  char buf[65536];
  size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool write_open = true;
  for (;;) {
    if (write_open && sent == bytes.size()) {
      ::shutdown(fd, SHUT_WR);
      write_open = false;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Every read of the server has a deadline (2 s here) and the client
    // has half-closed: a connection still open after 20 s is a hang.
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      die("the server neither answered nor closed the connection within 20 s");
    }
    if (p.revents & POLLIN) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    } else if (p.revents & POLLOUT) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        ::shutdown(fd, SHUT_WR);
        write_open = false;
      } else {
        sent += static_cast<size_t>(n);
      }
    } else if (p.revents & (POLLHUP | POLLERR)) {
      break;
    }
  }
  ::close(fd);
  return out;
}

std::string expand(std::string_view input) {
  const Harness& h = harness();
  const std::pair<std::string_view, const std::string*> placeholders[] = {{"@TOKEN@", &h.token},
                                                                          {"@ACCT@", &h.account},
                                                                          {"@UID@", &h.user_id},
                                                                          {"@PID@", &h.project_id}};
  std::string out;
  out.reserve(input.size() + 256);
  for (size_t i = 0; i < input.size();) {
    bool replaced = false;
    if (input[i] == '@') {
      for (const auto& [name, value] : placeholders) {
        if (input.substr(i, name.size()) == name) {
          out += *value;
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += input[i++];
  }
  return out;
}

std::string request(std::string_view method, std::string_view target,
                    std::string_view extra_headers, std::string_view body, bool auth) {
  std::string r;
  r.reserve(256 + body.size() + extra_headers.size());
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  if (auth) r.append("X-Auth-Token: ").append(harness().token).append("\r\n");
  r.append(extra_headers);
  r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  r.append("Connection: close\r\n\r\n");
  r.append(body);
  return r;
}

int status_of(std::string_view raw) {
  if (raw.size() < 12 || raw.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(raw.substr(9, 3)).c_str());
}

}  // namespace onestack::fuzz
