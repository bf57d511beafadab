#include "resource/store.h"

#include <algorithm>
#include <ctime>

#include "core/ids.h"
#include "core/json.h"

namespace onestack::resource {

namespace json = boost::json;
using store::sql::Params;
using store::sql::Rows;
using store::sql::Value;

namespace {

Error bad(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

Error not_found(const Def& def, std::string_view id) {
  return make_error(ErrorCode::kNotFound,
                    std::string(def.member) + " " + std::string(id) + " could not be found.");
}

// Neutron's standard-attribute time format: "2026-12-08T00:30:00Z".
std::string timestamp(const Clock& clock) {
  std::time_t t = static_cast<std::time_t>(clock.now_unix());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool is_standard(std::string_view name) {
  for (const Attr& a : kStandardAttrs) {
    if (a.name == name) return true;
  }
  return false;
}

Status check_type(const Attr& attr, const json::value& v) {
  const std::string name(attr.name);
  if (v.is_null()) return ok_status();  // nullable unless required (checked apart)
  switch (attr.type) {
    case Type::kString:
      if (!v.is_string()) return bad("Invalid input for " + name + ". Reason: not a string.");
      if (attr.max_length > 0 && v.as_string().size() > attr.max_length) {
        return bad("Invalid input for " + name + ". Reason: '" + std::string(v.as_string()) +
                   "' exceeds maximum length of " + std::to_string(attr.max_length) + ".");
      }
      return ok_status();
    case Type::kInt:
      if (!v.is_int64() && !v.is_uint64()) {
        return bad("Invalid input for " + name + ". Reason: not an integer.");
      }
      return ok_status();
    case Type::kBool:
      if (!v.is_bool()) return bad("Invalid input for " + name + ". Reason: not a boolean.");
      return ok_status();
    case Type::kJson: return ok_status();
  }
  return ok_status();
}

// Keys a client may send with extra attributes but the kit owns.
bool server_owned(std::string_view key) { return key == "id" || key == "links"; }

// Binds the column value of `attr` in `attrs` (a default of its type when
// absent or null, so columns are never NULL and sort alike on both
// engines).
void bind_column(Params& p, const Attr& attr, const json::object& attrs) {
  const json::value* v = attrs.if_contains(attr.name);
  switch (attr.type) {
    case Type::kString:
      p.add(v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view());
      return;
    case Type::kInt:
      p.add(v != nullptr && v->is_int64()    ? v->as_int64()
            : v != nullptr && v->is_uint64() ? static_cast<int64_t>(v->as_uint64())
                                             : int64_t{0});
      return;
    case Type::kBool: p.add(v != nullptr && v->is_bool() && v->as_bool()); return;
    case Type::kJson: p.add(v != nullptr ? to_json(*v) : std::string("null")); return;
  }
}

std::string placeholder(const Params& p) { return "$" + std::to_string(p.size()); }

Result<json::object> read_item(const Rows& rows, int r) {
  auto doc = parse_json(rows.str(r, 1));
  if (!doc.ok() || !doc->is_object()) {
    return make_error(ErrorCode::kInternal,
                      "stored document of " + rows.str(r, 0) + " is not JSON");
  }
  json::object item = std::move(doc->as_object());
  item["id"] = rows.str(r, 0);
  item["created_at"] = rows.str(r, 2);
  item["updated_at"] = rows.str(r, 3);
  item["revision_number"] = rows.int64(r, 4);
  return item;
}

constexpr std::string_view kItemColumns = "SELECT id, doc, created_at, updated_at, revision_number";

// Fills each item's "tags" with one query for the whole page.
Status attach_tags(Tx& tx, const Def& def, std::vector<json::object>& items) {
  if (!def.tags || items.empty()) return ok_status();
  Params p;
  p.add(def.table);
  std::string in;
  for (const auto& item : items) {
    p.add(std::string_view(item.at("id").as_string()));
    in += (in.empty() ? "" : ", ") + placeholder(p);
  }
  auto rows =
      tx.query("SELECT resource_id, tag FROM resource_tags WHERE kind = $1 AND resource_id IN (" +
                   in + ") ORDER BY resource_id, tag",
               p);
  if (!rows.ok()) return std::move(rows).error();
  for (auto& item : items) item["tags"] = json::array();
  for (int r = 0; r < rows->size(); ++r) {
    const std::string id = rows->str(r, 0);
    for (auto& item : items) {
      if (item.at("id").as_string() == id) item["tags"].as_array().emplace_back(rows->str(r, 1));
    }
  }
  return ok_status();
}

Status bump(Tx& tx, const Def& def, std::string_view id, const Clock& clock) {
  auto n = tx.run("UPDATE " + std::string(def.table) +
                      " SET revision_number = revision_number + 1, updated_at = $1 WHERE id = $2",
                  Params().add(timestamp(clock)).add(id));
  if (!n.ok()) return std::move(n).error();
  if (*n == 0) return not_found(def, id);
  return ok_status();
}

Status check_tag(std::string_view tag) {
  // Neutron's tag rules (neutron/extensions/tagging.py): 1-255 characters,
  // no comma or slash.
  if (tag.empty() || tag.size() > 255) return bad("Invalid tag: 1 to 255 characters, please.");
  if (tag.find(',') != std::string_view::npos || tag.find('/') != std::string_view::npos) {
    return bad("Invalid tag '" + std::string(tag) + "': it may contain neither ',' nor '/'.");
  }
  return ok_status();
}

}  // namespace

Result<json::object> check_create(const Def& def, const json::object& body) {
  json::object out;
  for (const auto& [key, value] : body) {
    const Attr* attr = def.find(key);
    if (attr == nullptr && def.extra_attrs) {
      if (!server_owned(key) && !is_standard(key)) out[key] = value;
      continue;
    }
    if (attr == nullptr || (attr->flags & kCreate) == 0) {
      return bad("Attribute '" + std::string(key) + "' not allowed in POST");
    }
    ONESTACK_TRY(check_type(*attr, value));
    out[key] = value;
  }
  for (const Attr& attr : def.attrs) {
    if (out.contains(attr.name)) {
      if ((attr.flags & kRequired) && out.at(attr.name).is_null()) {
        return bad("Invalid input for " + std::string(attr.name) + ". Reason: it may not be null.");
      }
      continue;
    }
    if (attr.flags & kRequired) {
      return bad("Failed to parse request. Required attribute '" + std::string(attr.name) +
                 "' not specified");
    }
    if (attr.default_json.empty()) {
      out[attr.name] = nullptr;
      continue;
    }
    auto v = parse_json(attr.default_json);
    if (!v.ok())
      return make_error(ErrorCode::kInternal, "bad default of " + std::string(attr.name));
    out[attr.name] = std::move(*v);
  }
  return out;
}

Result<json::object> check_update(const Def& def, const json::object& body) {
  json::object out;
  for (const auto& [key, value] : body) {
    const Attr* attr = def.find(key);
    if (attr == nullptr && def.extra_attrs) {
      if (!server_owned(key) && !is_standard(key)) out[key] = value;
      continue;
    }
    if (attr == nullptr || (attr->flags & kUpdate) == 0) {
      return bad("Attribute '" + std::string(key) + "' not allowed in PUT");
    }
    ONESTACK_TRY(check_type(*attr, value));
    if ((attr->flags & kRequired) && value.is_null()) {
      return bad("Invalid input for " + std::string(key) + ". Reason: it may not be null.");
    }
    out[key] = value;
  }
  return out;
}

Result<json::object> insert(Tx& tx, const Def& def, json::object attrs, const Clock& clock) {
  std::string id;
  if (const json::value* given = attrs.if_contains("id"); given != nullptr && given->is_string()) {
    id = std::string(given->as_string());
  } else {
    id = def.ids == IdKind::kHex ? new_hex_id() : new_uuid();
  }
  const std::string now = timestamp(clock);
  json::object doc;
  for (const auto& [key, value] : attrs) {
    if (!is_standard(key)) doc[key] = value;
  }
  Params p;
  p.add(id).add(now).add(now).add(to_json(doc));
  std::string cols = "id, created_at, updated_at, revision_number, doc";
  std::string vals = "$1, $2, $3, 1, $4";
  for (const Attr& attr : def.attrs) {
    if (!attr.column()) continue;
    bind_column(p, attr, doc);
    cols += ", " + column_name(attr);
    vals += ", " + placeholder(p);
  }
  auto n =
      tx.run("INSERT INTO " + std::string(def.table) + " (" + cols + ") VALUES (" + vals + ")", p);
  if (!n.ok()) {
    Error e = std::move(n).error();
    if (e.code == ErrorCode::kConflict) {
      return make_error(ErrorCode::kConflict,
                        "A " + std::string(def.member) + " with these values already exists.");
    }
    return e;
  }
  json::object item = std::move(doc);
  item["id"] = id;
  item["created_at"] = now;
  item["updated_at"] = now;
  item["revision_number"] = 1;
  if (def.tags) item["tags"] = json::array();
  return item;
}

Result<json::object> fetch(Tx& tx, const Def& def, std::string_view id, std::string_view scope_sql,
                           const Params& scope_params) {
  Params p = scope_params;
  p.add(id);
  std::string sql = std::string(kItemColumns) + " FROM " + std::string(def.table) +
                    " WHERE id = " + placeholder(p);
  if (!scope_sql.empty()) sql += " AND (" + std::string(scope_sql) + ")";
  auto rows = tx.query(sql, p);
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return not_found(def, id);
  auto item = read_item(*rows, 0);
  if (!item.ok()) return item;
  std::vector<json::object> one{std::move(*item)};
  ONESTACK_TRY(attach_tags(tx, def, one));
  return std::move(one.front());
}

Result<Page> list(Tx& tx, const Def& def, const ListQuery& q, std::string_view scope_sql,
                  const Params& scope_params) {
  std::optional<std::vector<Value>> marker_row;
  if (!q.marker.empty()) {
    // The marker's place in the order: its sort columns, then its id.
    Params p = scope_params;
    p.add(q.marker);
    std::string select = "SELECT id";
    for (const SortKey& k : q.sort) select = select + ", " + column_name(*k.attr);
    std::string sql = select + " FROM " + std::string(def.table) + " WHERE id = " + placeholder(p);
    if (!scope_sql.empty()) sql += " AND (" + std::string(scope_sql) + ")";
    auto rows = tx.query(sql, p);
    if (!rows.ok()) return std::move(rows).error();
    if (rows->empty()) return not_found(def, q.marker);
    std::vector<Value> values;
    for (size_t i = 0; i < q.sort.size(); ++i) {
      const Attr& attr = *q.sort[i].attr;
      const int c = static_cast<int>(i) + 1;
      Value v;
      switch (attr.type) {
        case Type::kString:
          v.type = Value::Type::kText;
          v.text = rows->str(0, c);
          break;
        case Type::kInt:
          v.type = Value::Type::kInt;
          v.integer = rows->int64(0, c);
          break;
        case Type::kBool:
          v.type = Value::Type::kBool;
          v.integer = rows->boolean(0, c) ? 1 : 0;
          break;
        case Type::kJson:  // never a sort key (not a column)
          break;
      }
      values.push_back(std::move(v));
    }
    Value id;
    id.type = Value::Type::kText;
    id.text = q.marker;
    values.push_back(std::move(id));
    marker_row = std::move(values);
  }
  PageSql page = build_page_sql(def, q, q.limit, scope_sql, scope_params, marker_row);
  auto rows = tx.query(page.text, page.params);
  if (!rows.ok()) return std::move(rows).error();
  Page out;
  const int n = rows->size();
  const int shown = q.limit > 0 ? std::min<int>(n, static_cast<int>(q.limit)) : n;
  for (int r = 0; r < shown; ++r) {
    auto item = read_item(*rows, r);
    if (!item.ok()) return std::move(item).error();
    out.items.push_back(std::move(*item));
  }
  if (q.limit > 0 && n > q.limit && !out.items.empty()) {
    out.next_marker = std::string(out.items.back().at("id").as_string());
  }
  ONESTACK_TRY(attach_tags(tx, def, out.items));
  return out;
}

Result<json::object> update(Tx& tx, const Def& def, std::string_view id,
                            const json::object& changes, std::optional<int64_t> if_revision,
                            const Clock& clock) {
  auto current = fetch(tx, def, id);
  if (!current.ok()) return current;
  if (if_revision && current->at("revision_number").as_int64() != *if_revision) {
    return make_error(ErrorCode::kPreconditionFailed,
                      "Constrained to revision " + std::to_string(*if_revision) + " but " +
                          std::string(def.member) + " " + std::string(id) + " is at revision " +
                          std::to_string(current->at("revision_number").as_int64()) + ".");
  }
  json::object doc;
  for (const auto& [key, value] : *current) {
    if (!is_standard(key) && key != "tags") doc[key] = value;
  }
  for (const auto& [key, value] : changes) doc[key] = value;
  const std::string now = timestamp(clock);
  Params p;
  p.add(now).add(to_json(doc));
  std::string set = "updated_at = $1, doc = $2, revision_number = revision_number + 1";
  for (const Attr& attr : def.attrs) {
    if (!attr.column()) continue;
    bind_column(p, attr, doc);
    set += ", " + column_name(attr) + " = " + placeholder(p);
  }
  p.add(id);
  auto n = tx.run(
      "UPDATE " + std::string(def.table) + " SET " + set + " WHERE id = " + placeholder(p), p);
  if (!n.ok()) {
    Error e = std::move(n).error();
    if (e.code == ErrorCode::kConflict) {
      return make_error(ErrorCode::kConflict,
                        "A " + std::string(def.member) + " with these values already exists.");
    }
    return e;
  }
  if (*n == 0) return not_found(def, id);
  return fetch(tx, def, id);
}

Status remove(Tx& tx, const Def& def, std::string_view id) {
  auto n = tx.run("DELETE FROM " + std::string(def.table) + " WHERE id = $1", Params().add(id));
  if (!n.ok()) return std::move(n).error();
  if (*n == 0) return not_found(def, id);
  if (def.tags) {
    auto t = tx.run("DELETE FROM resource_tags WHERE kind = $1 AND resource_id = $2",
                    Params().add(def.table).add(id));
    if (!t.ok()) return std::move(t).error();
  }
  return ok_status();
}

Result<std::vector<std::string>> tags_of(Tx& tx, const Def& def, std::string_view id) {
  auto item = fetch(tx, def, id);
  if (!item.ok()) return std::move(item).error();
  std::vector<std::string> out;
  for (const auto& t : item->at("tags").as_array()) out.emplace_back(t.as_string());
  return out;
}

Status set_tags(Tx& tx, const Def& def, std::string_view id, const std::vector<std::string>& tags,
                const Clock& clock) {
  for (const auto& t : tags) ONESTACK_TRY(check_tag(t));
  ONESTACK_TRY(bump(tx, def, id, clock));
  auto cleared = tx.run("DELETE FROM resource_tags WHERE kind = $1 AND resource_id = $2",
                        Params().add(def.table).add(id));
  if (!cleared.ok()) return std::move(cleared).error();
  for (const auto& t : tags) {
    auto n = tx.run(
        "INSERT INTO resource_tags (kind, resource_id, tag) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        Params().add(def.table).add(id).add(t));
    if (!n.ok()) return std::move(n).error();
  }
  return ok_status();
}

Status add_tag(Tx& tx, const Def& def, std::string_view id, std::string_view tag,
               const Clock& clock) {
  ONESTACK_TRY(check_tag(tag));
  ONESTACK_TRY(bump(tx, def, id, clock));
  auto n = tx.run(
      "INSERT INTO resource_tags (kind, resource_id, tag) VALUES ($1, $2, $3) "
      "ON CONFLICT DO NOTHING",
      Params().add(def.table).add(id).add(tag));
  if (!n.ok()) return std::move(n).error();
  return ok_status();
}

Status remove_tag(Tx& tx, const Def& def, std::string_view id, std::string_view tag,
                  const Clock& clock) {
  auto n = tx.run("DELETE FROM resource_tags WHERE kind = $1 AND resource_id = $2 AND tag = $3",
                  Params().add(def.table).add(id).add(tag));
  if (!n.ok()) return std::move(n).error();
  if (*n == 0) {
    // Either the item or the tag is missing: say which.
    auto item = fetch(tx, def, id);
    if (!item.ok()) return std::move(item).error();
    return make_error(ErrorCode::kNotFound, "Tag " + std::string(tag) + " could not be found for " +
                                                std::string(def.member) + " " + std::string(id) +
                                                ".");
  }
  return bump(tx, def, id, clock);
}

json::object render(const Def& def, const json::object& item,
                    const std::vector<std::string>& fields) {
  json::object out;
  auto wanted = [&](std::string_view name) {
    return fields.empty() || std::find(fields.begin(), fields.end(), name) != fields.end();
  };
  for (const auto& [key, value] : item) {
    const Attr* attr = find_attr(def, key);
    bool visible =
        attr != nullptr ? (attr->flags & kVisible) != 0 : key == "tags" || def.extra_attrs;
    if (!def.show_standard && key != "id" && is_standard(key)) visible = false;
    if (visible && wanted(key)) out[key] = value;
  }
  return out;
}

Status check_schema(Tx& tx, const Def& def) {
  std::string cols = "id, created_at, updated_at, revision_number, doc";
  for (const Attr& attr : def.attrs) {
    if (attr.column()) cols += ", " + column_name(attr);
  }
  auto rows = tx.query("SELECT " + cols + " FROM " + std::string(def.table) + " WHERE 1 = 0");
  if (!rows.ok()) {
    return make_error(ErrorCode::kInternal,
                      "table " + std::string(def.table) +
                          " does not match its declaration: " + rows.error().message);
  }
  return ok_status();
}

}  // namespace onestack::resource
