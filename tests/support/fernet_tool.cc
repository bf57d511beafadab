// fernet_tool: mints, validates and manages Keystone-format Fernet tokens
// with onestack's own token code, for interoperability tests against
// Keystone and for operators poking at a key repository.
//
//   fernet_tool setup    --key-dir DIR [--max-active-keys N]
//   fernet_tool rotate   --key-dir DIR [--max-active-keys N]
//   fernet_tool issue    --key-dir DIR --user-id ID --expires-at UNIX_FLOAT
//                        [--methods password,token] [--scope S] [--project-id ID]
//                        [--domain-id ID] [--system all] [--app-cred-id ID]
//                        [--audit-id ID]... [--now UNIX]
//   fernet_tool validate --key-dir DIR TOKEN
//
// issue prints the token; validate prints the decoded fields as JSON. Exit
// status 0 on success, 1 on error (message on stderr).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "identity/token/key_repository.h"
#include "identity/token/token_formatter.h"

namespace {

using onestack::identity::token::KeyRepository;
using onestack::identity::token::Scope;
using onestack::identity::token::TokenFormatter;
using onestack::identity::token::TokenPayload;

int fail(const onestack::Error& e) {
  std::cerr << "fernet_tool: " << onestack::error_code_name(e.code) << ": " << e.message << "\n";
  return 1;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_string(v[i]);
  return out + "]";
}

const char* scope_name(Scope s) {
  switch (s) {
    case Scope::kUnscoped: return "unscoped";
    case Scope::kDomain: return "domain";
    case Scope::kProject: return "project";
    case Scope::kSystem: return "system";
    case Scope::kApplicationCredential: return "application_credential";
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Keystone-format Fernet tokens with onestack's implementation"};
  app.require_subcommand(1);
  std::string key_dir;

  int max_active_keys = onestack::identity::token::kDefaultMaxActiveKeys;
  auto* setup =
      app.add_subcommand("setup", "create a key repository as keystone-manage fernet_setup");
  setup->add_option("--key-dir", key_dir)->required();
  setup->add_option("--max-active-keys", max_active_keys);

  auto* rotate = app.add_subcommand("rotate", "rotate keys as keystone-manage fernet_rotate");
  rotate->add_option("--key-dir", key_dir)->required();
  rotate->add_option("--max-active-keys", max_active_keys);

  TokenPayload p;
  std::string scope = "unscoped";
  std::string methods = "password";
  uint64_t now = 0;
  auto* issue = app.add_subcommand("issue", "mint a token and print it");
  issue->add_option("--key-dir", key_dir)->required();
  issue->add_option("--user-id", p.user_id)->required();
  issue->add_option("--expires-at", p.expires_at)->required();
  issue->add_option("--methods", methods, "comma-separated auth methods");
  issue->add_option("--scope", scope)
      ->check(CLI::IsMember({"unscoped", "domain", "project", "system", "application_credential"}));
  issue->add_option("--project-id", p.project_id);
  issue->add_option("--domain-id", p.domain_id);
  issue->add_option("--system", p.system);
  issue->add_option("--app-cred-id", p.app_cred_id);
  issue->add_option("--audit-id", p.audit_ids, "repeat for a parent audit id");
  issue->add_option("--now", now, "issue time (unix seconds); default: the clock");

  std::string token;
  auto* validate = app.add_subcommand("validate", "decode a token and print its fields as JSON");
  validate->add_option("--key-dir", key_dir)->required();
  validate->add_option("token", token)->required();

  CLI11_PARSE(app, argc, argv);

  if (setup->parsed()) {
    auto st = KeyRepository::setup(key_dir, max_active_keys);
    return st.ok() ? 0 : fail(st.error());
  }
  if (rotate->parsed()) {
    auto st = KeyRepository::rotate(key_dir, max_active_keys);
    return st.ok() ? 0 : fail(st.error());
  }
  auto formatter = TokenFormatter::open(key_dir);
  if (!formatter.ok()) return fail(formatter.error());
  if (issue->parsed()) {
    if (scope == "domain") p.scope = Scope::kDomain;
    if (scope == "project") p.scope = Scope::kProject;
    if (scope == "system") p.scope = Scope::kSystem;
    if (scope == "application_credential") p.scope = Scope::kApplicationCredential;
    std::stringstream ss(methods);
    for (std::string m; std::getline(ss, m, ',');) {
      if (!m.empty()) p.methods.push_back(m);
    }
    if (p.audit_ids.empty()) p.audit_ids.push_back(TokenFormatter::new_audit_id());
    auto t = now ? (*formatter)->issue_at(p, now) : (*formatter)->issue(p);
    if (!t.ok()) return fail(t.error());
    std::cout << *t << "\n";
    return 0;
  }
  auto got = (*formatter)->validate(token);
  if (!got.ok()) return fail(got.error());
  std::ostringstream out;
  out.precision(17);
  out << "{\"user_id\": " << json_string(got->user_id)
      << ", \"methods\": " << json_strings(got->methods)
      << ", \"scope\": " << json_string(scope_name(got->scope))
      << ", \"project_id\": " << json_string(got->project_id)
      << ", \"domain_id\": " << json_string(got->domain_id)
      << ", \"system\": " << json_string(got->system)
      << ", \"app_cred_id\": " << json_string(got->app_cred_id)
      << ", \"expires_at\": " << got->expires_at
      << ", \"audit_ids\": " << json_strings(got->audit_ids)
      << ", \"issued_at\": " << got->issued_at << "}";
  std::cout << out.str() << "\n";
  return 0;
}
