// http::Server over TLS, with a throwaway self-signed certificate made by the
// openssl command at test time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "core/http/server.h"
#include "server_fixture.h"
#include "support/raw_client.h"
#include "support/test_server.h"

namespace onestack::http::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using test_support::RawClient;
using test_support::TestServer;
using test_support::TestServerOptions;
using namespace std::chrono_literals;

// A temp directory holding cert.pem and key.pem for CN/SAN "localhost".
class SelfSignedCert {
 public:
  SelfSignedCert() {
    char tmpl[] = "/tmp/onestack_tls_testXXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout '" +
        key() + "' -out '" + cert() + "' >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0 && std::filesystem::exists(cert());
  }
  ~SelfSignedCert() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  std::string cert() const { return dir_ + "/cert.pem"; }
  std::string key() const { return dir_ + "/key.pem"; }

 private:
  std::string dir_;
  bool ok_ = false;
};

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cert_.ok()) GTEST_SKIP() << "openssl could not make a test certificate";
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls->use_certificate_chain_file(cert_.cert());
    tls->use_private_key_file(cert_.key(), ssl::context::pem);
    TestServerOptions options;
    options.tls = tls;
    options.limits.read_timeout = 300ms;
    server_ = std::make_unique<TestServer>(make_test_router(&state_), std::move(options));
  }

  SelfSignedCert cert_;
  HandlerState state_;
  std::unique_ptr<TestServer> server_;
};

// A verifying TLS client: trusts only the test certificate, checks the name.
class TlsClient {
 public:
  explicit TlsClient(const std::string& ca_file) : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, ctx_);
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
  }

  void connect(uint16_t port) {
    beast::get_lowest_layer(*stream_).expires_after(5s);
    beast::get_lowest_layer(*stream_).connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_->handshake(ssl::stream_base::client);
  }

  beast::http::response<beast::http::string_body> get(const std::string& target) {
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
    req.set(beast::http::field::host, "localhost");
    beast::get_lowest_layer(*stream_).expires_after(5s);
    beast::http::write(*stream_, req);
    beast::http::response<beast::http::string_body> res;
    beast::http::read(*stream_, buffer_, res);
    return res;
  }

 private:
  asio::io_context io_;
  ssl::context ctx_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

TEST_F(ServerTlsTest, ServesRequestsOverAVerifiedTlsConnection) {
  TlsClient client(cert_.cert());
  ASSERT_NO_THROW(client.connect(server_->port()));
  auto first = client.get("/items/tls");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), "item:tls");
  EXPECT_TRUE(std::regex_match(std::string(first["x-openstack-request-id"]), request_id_shape()));
  // Keep-alive works over TLS too, and the handler learns the request was secure.
  auto second = client.get("/scheme");
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), "https");
  auto missing = client.get("/nowhere");
  EXPECT_EQ(missing.result_int(), 404);
}

TEST_F(ServerTlsTest, ClosesAPlainHttpClientWithoutAnswering) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.send(test_support::format_request("GET", "/items/x")));
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_EQ(c.pending().find("HTTP/1.1"), std::string::npos);
  EXPECT_EQ(state_.calls.load(), 0);
}

TEST_F(ServerTlsTest, ClosesAClientThatNeverStartsTheHandshake) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(ServerTlsTest, StopsCleanlyWithAnOpenTlsConnection) {
  TlsClient client(cert_.cert());
  ASSERT_NO_THROW(client.connect(server_->port()));
  EXPECT_EQ(client.get("/items/a").body(), "item:a");
  server_->stop();
  EXPECT_TRUE(server_->wait_stopped(2s));
}

TEST(ServerPlain, ReportsPlainHttpToHandlers) {
  HandlerState state;
  TestServer server(make_test_router(&state));
  auto r = test_support::http_request(server.port(), "GET", "/scheme");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "http");
}

}  // namespace
}  // namespace onestack::http::test
