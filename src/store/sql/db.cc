#include "store/sql/db.h"

#include <charconv>
#include <chrono>
#include <cstdlib>

namespace onestack::store::sql {

Params& Params::add(std::string_view text) {
  values_.push_back(Value{Value::Type::kText, std::string(text), 0, 0});
  return *this;
}

Params& Params::add(int64_t value) {
  values_.push_back(Value{Value::Type::kInt, {}, value, 0});
  return *this;
}

Params& Params::add(bool value) {
  values_.push_back(Value{Value::Type::kBool, {}, value ? 1 : 0, 0});
  return *this;
}

Params& Params::add(double value) {
  values_.push_back(Value{Value::Type::kReal, {}, 0, value});
  return *this;
}

Params& Params::add_null() {
  values_.push_back(Value{});
  return *this;
}

Params& Params::add_bytes(std::string_view bytes) {
  values_.push_back(Value{Value::Type::kBytes, std::string(bytes), 0, 0});
  return *this;
}

std::string Rows::str(int row, int col) const {
  const Value& v = cell(row, col);
  switch (v.type) {
    case Value::Type::kNull: return {};
    case Value::Type::kText:
    case Value::Type::kBytes: return v.text;
    case Value::Type::kInt:
    case Value::Type::kBool: return std::to_string(v.integer);
    case Value::Type::kReal: return std::to_string(v.real);
  }
  return {};
}

int64_t Rows::int64(int row, int col) const {
  const Value& v = cell(row, col);
  switch (v.type) {
    case Value::Type::kInt:
    case Value::Type::kBool: return v.integer;
    case Value::Type::kReal: return static_cast<int64_t>(v.real);
    case Value::Type::kText: {
      int64_t out = 0;
      std::from_chars(v.text.data(), v.text.data() + v.text.size(), out);
      return out;
    }
    case Value::Type::kNull:
    case Value::Type::kBytes: return 0;
  }
  return 0;
}

double Rows::real(int row, int col) const {
  const Value& v = cell(row, col);
  switch (v.type) {
    case Value::Type::kReal: return v.real;
    case Value::Type::kInt:
    case Value::Type::kBool: return static_cast<double>(v.integer);
    case Value::Type::kText: return std::strtod(v.text.c_str(), nullptr);
    case Value::Type::kNull:
    case Value::Type::kBytes: return 0;
  }
  return 0;
}

bool Rows::boolean(int row, int col) const {
  const Value& v = cell(row, col);
  switch (v.type) {
    case Value::Type::kInt:
    case Value::Type::kBool: return v.integer != 0;
    case Value::Type::kReal: return v.real != 0;
    // PostgreSQL's text form of a boolean.
    case Value::Type::kText: return v.text == "t" || v.text == "true" || v.text == "1";
    case Value::Type::kNull:
    case Value::Type::kBytes: return false;
  }
  return false;
}

bool Rows::is_null(int row, int col) const { return cell(row, col).type == Value::Type::kNull; }

Status Db::write(std::string_view point, const std::function<Status(Tx&)>& fn) {
  return call(point, /*write=*/true, fn);
}

Status Db::read(std::string_view point, const std::function<Status(Tx&)>& fn) {
  return call(point, /*write=*/false, fn);
}

Status Db::call(std::string_view point, bool write, const std::function<Status(Tx&)>& fn) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t retries = 0;
  Status st;
  if (fault_hook_) {
    if (auto fault = fault_hook_(point)) st = std::move(*fault);
  }
  if (st.ok()) {
    st = write ? run_write(fn) : run_read(fn);
    while (write && !st.ok() && retryable(st.error()) && retries + 1 < kWriteAttempts) {
      ++retries;
      st = run_write(fn);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(stats_mu_);
  auto it = stats_.find(point);
  if (it == stats_.end()) {
    it = stats_.emplace(std::string(point), PointStats{std::string(point)}).first;
  }
  PointStats& s = it->second;
  ++s.calls;
  if (!st.ok()) ++s.failures;
  s.retries += retries;
  s.seconds += seconds;
  return st;
}

std::vector<PointStats> Db::stats() const {
  std::lock_guard lock(stats_mu_);
  std::vector<PointStats> out;
  out.reserve(stats_.size());
  for (const auto& [name, s] : stats_) out.push_back(s);
  return out;
}

void render_stats(const std::vector<StoreStats>& stores, std::string* out) {
  struct Series {
    const char* name;
    const char* help;
    const char* type;
  };
  static constexpr Series kSeries[] = {
      {"onestack_db_transactions_total", "Database transactions by store and point.", "counter"},
      {"onestack_db_failures_total", "Database transactions that failed.", "counter"},
      {"onestack_db_retries_total", "Extra runs of transactions after a retryable failure.",
       "counter"},
      {"onestack_db_seconds_total", "Wall time spent in database transactions.", "counter"},
  };
  for (size_t i = 0; i < std::size(kSeries); ++i) {
    *out += std::string("# HELP ") + kSeries[i].name + " " + kSeries[i].help + "\n";
    *out += std::string("# TYPE ") + kSeries[i].name + " " + kSeries[i].type + "\n";
    for (const StoreStats& store : stores) {
      for (const PointStats& s : store.points) {
        *out += kSeries[i].name;
        *out += "{store=\"" + store.store + "\",point=\"" + s.point + "\"} ";
        switch (i) {
          case 0: *out += std::to_string(s.calls); break;
          case 1: *out += std::to_string(s.failures); break;
          case 2: *out += std::to_string(s.retries); break;
          default: *out += std::to_string(s.seconds); break;
        }
        *out += "\n";
      }
    }
  }
}

}  // namespace onestack::store::sql
