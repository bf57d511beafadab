#include "resource/list_query.h"

#include <algorithm>
#include <charconv>

namespace onestack::resource {

namespace {

using store::sql::Params;
using store::sql::Value;

Error bad(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// "a,b,,c" -> {"a", "b", "c"}.
void split_into(std::string_view text, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
}

// Neutron's convert_to_boolean: true/false in any case, 1/0.
std::optional<bool> parse_bool(std::string_view v) {
  std::string lower(v);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view v) {
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

Status check_value(const Attr& attr, std::string_view v) {
  switch (attr.type) {
    case Type::kString: return ok_status();
    case Type::kBool:
      if (!parse_bool(v)) {
        return bad("'" + std::string(v) + "' is not a valid boolean value for " +
                   std::string(attr.name));
      }
      return ok_status();
    case Type::kInt:
      if (!parse_int(v)) {
        return bad("'" + std::string(v) + "' is not an integer value for " +
                   std::string(attr.name));
      }
      return ok_status();
    case Type::kJson: return bad(std::string(attr.name) + " cannot filter a list");
  }
  return ok_status();
}

Status add_sort_key(const Def& def, std::string_view key, std::string_view dir,
                    std::vector<SortKey>& out) {
  const Attr* attr = find_attr(def, key);
  if (attr == nullptr || (attr->flags & kSort) == 0) {
    return bad("Sort key '" + std::string(key) + "' is not supported for " +
               std::string(def.collection));
  }
  if (dir != "asc" && dir != "desc") {
    return bad("Sort direction '" + std::string(dir) + "' is not supported: use asc or desc");
  }
  out.push_back(SortKey{attr, dir == "desc"});
  return ok_status();
}

// A value bound the way its column stores it.
void bind(Params& p, const Attr& attr, const std::string& v) {
  switch (attr.type) {
    case Type::kString: p.add(v); return;
    case Type::kInt: p.add(*parse_int(v)); return;
    case Type::kBool: p.add(*parse_bool(v)); return;
    case Type::kJson: p.add(v); return;
  }
}

std::string placeholder(const Params& p) { return "$" + std::to_string(p.size()); }

// "(EXISTS (SELECT 1 FROM resource_tags t WHERE t.kind = $k AND t.resource_id
// = <table>.id AND t.tag IN ($a, $b)))"
std::string tag_exists(const Def& def, const std::vector<std::string>& tags, Params& p) {
  p.add(def.table);
  std::string sql = "EXISTS (SELECT 1 FROM resource_tags t WHERE t.kind = " + placeholder(p) +
                    " AND t.resource_id = " + std::string(def.table) + ".id AND t.tag IN (";
  for (size_t i = 0; i < tags.size(); ++i) {
    p.add(tags[i]);
    if (i > 0) sql += ", ";
    sql += placeholder(p);
  }
  return sql + "))";
}

std::string all_tags(const Def& def, const std::vector<std::string>& tags, Params& p) {
  std::string sql = "(";
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) sql += " AND ";
    sql += tag_exists(def, {tags[i]}, p);
  }
  return sql + ")";
}

void bind_value(Params& p, const Value& v) {
  switch (v.type) {
    case Value::Type::kNull: p.add_null(); return;
    case Value::Type::kText: p.add(v.text); return;
    case Value::Type::kBytes: p.add_bytes(v.text); return;
    case Value::Type::kInt: p.add(v.integer); return;
    case Value::Type::kBool: p.add(v.integer != 0); return;
    case Value::Type::kReal: p.add(v.real); return;
  }
}

}  // namespace

std::string column_name(const Attr& attr) {
  std::string out(attr.name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

Result<ListQuery> parse_list_query(const Def& def, const http::QueryParams& query,
                                   const ListOptions& options) {
  ListQuery q;
  std::vector<std::string> sort_keys, sort_dirs;
  for (const auto& item : query.items()) {
    const std::string& key = item.key;
    const std::string& v = item.value;
    if (key == "sort_key") {
      sort_keys.push_back(v);
    } else if (key == "sort_dir") {
      sort_dirs.push_back(v);
    } else if (key == "sort") {
      std::vector<std::string> parts;
      split_into(v, parts);
      for (const std::string& part : parts) {
        size_t colon = part.find(':');
        std::string_view k = std::string_view(part).substr(0, colon);
        std::string_view d =
            colon == std::string::npos ? "asc" : std::string_view(part).substr(colon + 1);
        ONESTACK_TRY(add_sort_key(def, k, d, q.sort));
      }
    } else if (key == "limit") {
      auto n = parse_int(v);
      if (!n || *n < 0) return bad("limit must be a non-negative integer, not '" + v + "'");
      q.limit = *n;
    } else if (key == "marker") {
      q.marker = v;
    } else if (key == "fields") {
      split_into(v, q.fields);
    } else if (key == "tags" || key == "tags-any" || key == "not-tags" || key == "not-tags-any") {
      if (!def.tags) return bad(std::string(def.collection) + " have no tags to filter by");
      auto& list = key == "tags"       ? q.tags
                   : key == "tags-any" ? q.tags_any
                   : key == "not-tags" ? q.not_tags
                                       : q.not_tags_any;
      split_into(v, list);
    } else if (const Attr* attr = find_attr(def, key); attr != nullptr && (attr->flags & kFilter)) {
      ONESTACK_TRY(check_value(*attr, v));
      auto it = std::find_if(q.filters.begin(), q.filters.end(),
                             [&](const Filter& f) { return f.attr == attr; });
      if (it == q.filters.end()) {
        q.filters.push_back(Filter{attr, {v}});
      } else {
        it->values.push_back(v);
      }
    } else if (std::find(options.extra_keys.begin(), options.extra_keys.end(), key) ==
               options.extra_keys.end()) {
      if (options.strict)
        return bad("'" + key + "' is not a valid filter for " + std::string(def.collection));
    }
  }
  if (sort_dirs.size() > sort_keys.size()) {
    return bad("The number of sort_dir values must not exceed the number of sort_key values");
  }
  for (size_t i = 0; i < sort_keys.size(); ++i) {
    ONESTACK_TRY(
        add_sort_key(def, sort_keys[i], i < sort_dirs.size() ? sort_dirs[i] : "asc", q.sort));
  }
  if (!query.has("limit")) q.limit = options.default_limit;
  if (options.max_limit > 0 && q.limit > options.max_limit) q.limit = options.max_limit;
  return q;
}

PageSql build_page_sql(const Def& def, const ListQuery& q, int64_t limit,
                       std::string_view scope_sql, const Params& scope_params,
                       const std::optional<std::vector<Value>>& marker_row) {
  PageSql out;
  Params& p = out.params;
  p = scope_params;
  const std::string table(def.table);
  std::string where;
  auto conj = [&](const std::string& cond) {
    where += where.empty() ? " WHERE " : " AND ";
    where += cond;
  };
  if (!scope_sql.empty()) conj("(" + std::string(scope_sql) + ")");
  for (const Filter& f : q.filters) {
    std::string cond = column_name(*f.attr) + " IN (";
    for (size_t i = 0; i < f.values.size(); ++i) {
      bind(p, *f.attr, f.values[i]);
      if (i > 0) cond += ", ";
      cond += placeholder(p);
    }
    conj(cond + ")");
  }
  if (!q.tags.empty()) conj(all_tags(def, q.tags, p));
  if (!q.tags_any.empty()) conj(tag_exists(def, q.tags_any, p));
  if (!q.not_tags.empty()) conj("NOT " + all_tags(def, q.not_tags, p));
  if (!q.not_tags_any.empty()) conj("NOT " + tag_exists(def, q.not_tags_any, p));

  // The order: the asked keys, then id ascending, so it is total and a
  // marker names one place in it.
  std::vector<std::pair<std::string, bool>> keys;
  for (const SortKey& k : q.sort) keys.emplace_back(column_name(*k.attr), k.descending);
  keys.emplace_back("id", false);
  if (marker_row) {
    // After the marker: (k0 > m0) OR (k0 = m0 AND k1 > m1) OR ..., with <
    // for a descending key.
    std::string after = "(";
    for (size_t i = 0; i < keys.size() && i < marker_row->size(); ++i) {
      if (i > 0) after += " OR ";
      after += "(";
      for (size_t j = 0; j < i; ++j) {
        bind_value(p, (*marker_row)[j]);
        after += keys[j].first + " = " + placeholder(p) + " AND ";
      }
      bind_value(p, (*marker_row)[i]);
      after += keys[i].first + (keys[i].second ? " < " : " > ") + placeholder(p) + ")";
    }
    conj(after + ")");
  }
  std::string order;
  for (const auto& [col, desc] : keys) {
    order += order.empty() ? " ORDER BY " : ", ";
    order += col + (desc ? " DESC" : " ASC");
  }
  std::string select = "SELECT id, doc, created_at, updated_at, revision_number";
  for (const SortKey& k : q.sort) select += ", " + column_name(*k.attr);
  out.text = select + " FROM " + table + where + order;
  if (limit > 0) out.text += " LIMIT " + std::to_string(limit + 1);
  return out;
}

}  // namespace onestack::resource
