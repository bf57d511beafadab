#include "fault/fault_plan.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/log.h"

namespace onestack::fault {

namespace {

struct KindName {
  std::string_view name;
  FaultKind kind;
};
constexpr KindName kKinds[] = {
    {"ENOSPC", FaultKind::kEnospc},
    {"EDQUOT", FaultKind::kEdquot},
    {"EIO", FaultKind::kEio},
    {"SQLITE_FULL", FaultKind::kSqliteFull},
    {"SQLITE_IOERR", FaultKind::kSqliteIoerr},
    {"SQLITE_BUSY", FaultKind::kSqliteBusy},
};

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<int64_t> number(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Error bad_line(size_t line_no, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "fault plan line " + std::to_string(line_no) + ": " + why);
}

}  // namespace

Result<std::vector<FaultRule>> parse_plan(std::string_view text) {
  std::vector<FaultRule> rules;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    auto w = words(line);
    if (w.empty() || w[0].front() == '#') continue;
    if (w.size() < 2) return bad_line(line_no, "expected POINT ERROR [options]");
    FaultRule r;
    r.point = std::string(w[0]);
    bool known = false;
    for (const auto& k : kKinds) {
      if (k.name == w[1]) {
        r.kind = k.kind;
        known = true;
      }
    }
    if (!known) return bad_line(line_no, "unknown error " + std::string(w[1]));
    for (size_t i = 2; i < w.size(); ++i) {
      std::string_view opt = w[i];
      size_t eq = opt.find('=');
      std::string_view key = opt.substr(0, eq);
      std::optional<int64_t> value;
      if (eq != std::string_view::npos) {
        value = number(opt.substr(eq + 1));
        if (!value) return bad_line(line_no, "bad number in " + std::string(opt));
      }
      if (key == "count" && value && *value >= -1) {
        r.count = *value;
      } else if (key == "after" && value && *value >= 0) {
        r.after = *value;
      } else if (key == "short" && (!value || *value >= 0)) {
        r.short_bytes = value ? *value : -1;
      } else {
        return bad_line(line_no, "bad option " + std::string(opt));
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

Error fault_error(FaultKind kind, std::string_view point) {
  // The codes are the backends' own mapping (blob/fs sys_error, store/sqlite
  // sqlite_error); the messages read like theirs, without a path.
  auto sys = [&](int err) {
    return std::string(point) +
           " (injected fault): " + std::error_code(err, std::generic_category()).message();
  };
  std::string where = std::string(point) + " (injected fault): ";
  switch (kind) {
    case FaultKind::kEnospc: return make_error(ErrorCode::kInsufficientStorage, sys(ENOSPC));
    case FaultKind::kEdquot: return make_error(ErrorCode::kInsufficientStorage, sys(EDQUOT));
    case FaultKind::kEio: return make_error(ErrorCode::kInternal, sys(EIO));
    case FaultKind::kSqliteFull:
      return make_error(ErrorCode::kInsufficientStorage, where + "database or disk is full");
    case FaultKind::kSqliteIoerr: return make_error(ErrorCode::kInternal, where + "disk I/O error");
    case FaultKind::kSqliteBusy:
      return make_error(ErrorCode::kUnavailable, where + "database is locked");
  }
  return make_error(ErrorCode::kInternal, where + "unknown fault");
}

FaultPlan::FaultPlan(std::string path) : path_(std::move(path)) {}

void FaultPlan::set_rules(std::vector<FaultRule> rules) {
  std::lock_guard lock(mu_);
  rules_.clear();
  for (auto& r : rules) rules_.push_back(Armed{std::move(r), 0, 0});
}

void FaultPlan::refresh_locked() {
  if (path_.empty()) return;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (file_ino_ != 0 || file_size_ != -1) {
      rules_.clear();
      file_mtime_ns_ = -1;
      file_size_ = -1;
      file_ino_ = 0;
    }
    return;
  }
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  if (mtime_ns == file_mtime_ns_ && st.st_size == file_size_ && st.st_ino == file_ino_) return;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;  // vanished between stat and open: try again next call
  std::ostringstream text;
  text << in.rdbuf();
  file_mtime_ns_ = mtime_ns;
  file_size_ = st.st_size;
  file_ino_ = st.st_ino;
  auto parsed = parse_plan(text.str());
  if (!parsed.ok()) {
    spdlog::error("fault plan {} not applied (previous rules kept): {}", path_,
                  parsed.error().message);
    return;
  }
  rules_.clear();
  for (auto& r : *parsed) rules_.push_back(Armed{std::move(r), 0, 0});
  spdlog::warn("fault plan {} loaded: {} rule(s)", path_, rules_.size());
}

std::optional<Fault> FaultPlan::hit(std::string_view point) {
  std::lock_guard lock(mu_);
  refresh_locked();
  std::optional<Fault> out;
  for (auto& a : rules_) {
    if (a.rule.point != point) continue;
    const int64_t call = a.seen++;
    if (out || call < a.rule.after) continue;
    if (a.rule.count >= 0 && a.fired >= a.rule.count) continue;
    ++a.fired;
    out = Fault{a.rule.kind, a.rule.short_bytes, fault_error(a.rule.kind, point)};
  }
  if (out) spdlog::warn("fault injected at {}: {}", point, out->error.message);
  return out;
}

bool FaultPlan::armed(std::string_view point) {
  std::lock_guard lock(mu_);
  refresh_locked();
  for (const auto& a : rules_) {
    if (a.rule.point == point && (a.rule.count < 0 || a.fired < a.rule.count)) return true;
  }
  return false;
}

uint64_t FaultPlan::fired(std::string_view point) {
  std::lock_guard lock(mu_);
  refresh_locked();
  uint64_t n = 0;
  for (const auto& a : rules_) {
    if (a.rule.point == point) n += static_cast<uint64_t>(a.fired);
  }
  return n;
}

}  // namespace onestack::fault
