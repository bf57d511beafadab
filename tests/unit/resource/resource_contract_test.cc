// The resource kit's contract, for every declared resource on every engine
// (TEST_P over engine x declaration): validation, filters, sort keys,
// keyset paging, fields, tags and revisions behave as the declaration
// says. Expected answers are computed here, in memory, from the items the
// test made, never written down by hand. A resource joins by adding its
// declaration and its table to kResources.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "resource/list_query.h"
#include "resource/store.h"
#include "store/sql_engines.h"

namespace onestack::resource {
namespace {

namespace json = boost::json;
using store::testing::Engine;
using store::testing::EngineFixture;
using store::testing::Step;

// ---- the declared resources under test ----

// Shaped like Neutron's network: names, booleans, an integer, tags.
constexpr uint32_t kRw = kCreate | kUpdate | kVisible;
constexpr Attr kNetworkAttrs[] = {
    {"name", Type::kString, kRw | kFilter | kSort, 255, "\"\""},
    {"description", Type::kString, kRw, 255, "\"\""},
    {"project_id", Type::kString, kCreate | kVisible | kFilter | kSort | kRequired, 255},
    {"admin_state_up", Type::kBool, kRw | kFilter | kSort, 0, "true"},
    {"shared", Type::kBool, kRw | kFilter, 0, "false"},
    {"router:external", Type::kBool, kRw | kFilter, 0, "false"},
    {"mtu", Type::kInt, kRw | kFilter | kSort, 0, "1500"},
    {"status", Type::kString, kVisible | kFilter | kSort, 16, "\"ACTIVE\""},
};
constexpr Def kNetworks{"network", "networks", "test_networks", kNetworkAttrs, true};

// Shaped like Cinder's volume: a required size, a status, no tags.
constexpr Attr kVolumeAttrs[] = {
    {"name", Type::kString, kRw | kFilter | kSort, 255},
    {"size", Type::kInt, kCreate | kVisible | kFilter | kSort | kRequired},
    {"bootable", Type::kBool, kRw | kFilter | kSort, 0, "false"},
    {"status", Type::kString, kVisible | kFilter | kSort, 32, "\"creating\""},
    {"availability_zone", Type::kString, kCreate | kVisible | kFilter, 255, "\"nova\""},
    {"metadata_note", Type::kString, kRw, 0, "\"\""},
};
constexpr Def kVolumes{"volume", "volumes", "test_volumes", kVolumeAttrs, false};

// Shaped like Keystone's region: a parent, a description, no tags.
constexpr Attr kRegionAttrs[] = {
    {"description", Type::kString, kRw, 255, "\"\""},
    {"parent_region_id", Type::kString, kRw | kFilter | kSort, 255},
};
constexpr Def kRegions{"region", "regions", "test_regions", kRegionAttrs, false};

// Shaped like Keystone's policy: hex ids, extra attributes kept, no
// standard attributes shown, a JSON attribute.
constexpr Attr kPolicyAttrs[] = {
    {"blob", Type::kString, kRw | kRequired, 65535},
    {"type", Type::kString, kRw | kRequired | kFilter, 255},
    {"rules", Type::kJson, kRw, 0, "{}"},
};
constexpr Def kPolicies{
    "policy",       "policies",           "test_policies",         kPolicyAttrs,
    /*tags=*/false, /*extra_attrs=*/true, /*show_standard=*/false, IdKind::kHex};

struct Declared {
  const Def* def;
  Step table;
};

const Declared kResources[] = {
    {&kNetworks,
     {"networks",
      "CREATE TABLE test_networks (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "name TEXT NOT NULL, project_id TEXT NOT NULL, admin_state_up BOOLEAN NOT NULL, "
      "shared BOOLEAN NOT NULL, router_external BOOLEAN NOT NULL, mtu BIGINT NOT NULL, "
      "status TEXT NOT NULL)",
      "CREATE TABLE test_networks (id TEXT COLLATE \"C\" PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "name TEXT COLLATE \"C\" NOT NULL, project_id TEXT COLLATE \"C\" NOT NULL, "
      "admin_state_up BOOLEAN NOT NULL, shared BOOLEAN NOT NULL, router_external BOOLEAN NOT NULL, "
      "mtu BIGINT NOT NULL, status TEXT COLLATE \"C\" NOT NULL)"}},
    {&kVolumes,
     {"volumes",
      "CREATE TABLE test_volumes (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "name TEXT NOT NULL, size BIGINT NOT NULL, bootable BOOLEAN NOT NULL, status TEXT NOT NULL, "
      "availability_zone TEXT NOT NULL)",
      "CREATE TABLE test_volumes (id TEXT COLLATE \"C\" PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "name TEXT COLLATE \"C\" NOT NULL, size BIGINT NOT NULL, bootable BOOLEAN NOT NULL, "
      "status TEXT COLLATE \"C\" NOT NULL, availability_zone TEXT COLLATE \"C\" NOT NULL)"}},
    {&kPolicies,
     {"policies",
      "CREATE TABLE test_policies (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "type TEXT NOT NULL)",
      "CREATE TABLE test_policies (id TEXT COLLATE \"C\" PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "type TEXT COLLATE \"C\" NOT NULL)"}},
    {&kRegions,
     {"regions",
      "CREATE TABLE test_regions (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "parent_region_id TEXT NOT NULL)",
      "CREATE TABLE test_regions (id TEXT COLLATE \"C\" PRIMARY KEY, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL, revision_number BIGINT NOT NULL, doc TEXT NOT NULL, "
      "parent_region_id TEXT COLLATE \"C\" NOT NULL)"}},
};

constexpr Step kTagsTable{
    "tags",
    "CREATE TABLE resource_tags (kind TEXT NOT NULL, resource_id TEXT NOT NULL, tag TEXT NOT NULL, "
    "PRIMARY KEY (kind, resource_id, tag))",
    "CREATE TABLE resource_tags (kind TEXT COLLATE \"C\" NOT NULL, resource_id TEXT COLLATE \"C\" "
    "NOT NULL, tag TEXT COLLATE \"C\" NOT NULL, PRIMARY KEY (kind, resource_id, tag))"};

using Param = std::tuple<Engine, const Declared*>;

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return std::string(std::get<0>(info.param) == Engine::kSqlite ? "Sqlite" : "Postgres") + "_" +
         std::string(std::get<1>(info.param)->def->collection);
}

// ---- values made from the declaration ----

// The value item `i` gets for `attr`: few distinct values, so filters match
// several items and sort keys tie (the id breaks ties).
json::value value_for(const Attr& attr, int i) {
  switch (attr.type) {
    case Type::kString: {
      // Mixed case and a non-ASCII letter: bytewise order on both engines.
      static const char* kWords[] = {"b\xc3\xa9ta", "Alpha", "alpha", "gamma"};
      return json::string(std::string(kWords[i % 4]) + "-" + std::string(attr.name.substr(0, 3)));
    }
    case Type::kInt: return json::value((i * 7) % 5 + 1);
    case Type::kBool: return json::value(i % 3 == 0);
    case Type::kJson: return json::object{{"n", i % 3}, {"list", json::array{i}}};
  }
  return nullptr;
}

json::object body_for(const Def& def, int i) {
  json::object body;
  for (const Attr& attr : def.attrs) {
    if (attr.flags & kCreate) body[attr.name] = value_for(attr, i);
  }
  return body;
}

// The expected order of `items` for `keys` (then id), as the kit must give.
std::vector<std::string> sorted_ids(std::vector<json::object> items,
                                    const std::vector<SortKey>& keys) {
  auto cmp_value = [](const json::value& a, const json::value& b) -> int {
    if (a.is_string()) {
      std::string_view x = a.as_string(), y = b.as_string();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_bool()) return static_cast<int>(a.as_bool()) - static_cast<int>(b.as_bool());
    int64_t x = a.to_number<int64_t>(), y = b.to_number<int64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  };
  std::sort(items.begin(), items.end(), [&](const json::object& a, const json::object& b) {
    for (const SortKey& k : keys) {
      int c = cmp_value(a.at(k.attr->name), b.at(k.attr->name));
      if (c != 0) return k.descending ? c > 0 : c < 0;
    }
    return a.at("id").as_string() < b.at("id").as_string();
  });
  std::vector<std::string> ids;
  for (const auto& it : items) ids.emplace_back(it.at("id").as_string());
  return ids;
}

std::vector<std::string> ids_of(const std::vector<json::object>& items) {
  std::vector<std::string> ids;
  for (const auto& it : items) ids.emplace_back(it.at("id").as_string());
  return ids;
}

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  return std::to_string(v.to_number<int64_t>());
}

http::QueryParams query(std::initializer_list<std::pair<std::string, std::string>> kv) {
  http::QueryParams q;
  for (const auto& [k, v] : kv) q.add(k, v, true);
  return q;
}

// ---- the suite ----

class ResourceContract : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    ONESTACK_ENGINE_SETUP(engine_);
    auto db = engine_.open();
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->read("test.schema", [&](Tx& tx) { return check_schema(tx, def()); }).ok());
  }

  const Def& def() const { return *std::get<1>(GetParam())->def; }

  static std::vector<Step> steps() { return {kTagsTable, std::get<1>(GetParam())->table}; }

  // Creates `n` items from generated bodies; returns them as stored.
  std::vector<json::object> make(int n) {
    std::vector<json::object> out;
    for (int i = 0; i < n; ++i) {
      auto attrs = check_create(def(), body_for(def(), i));
      EXPECT_TRUE(attrs.ok()) << attrs.error().message;
      if (!attrs.ok()) return out;
      json::object item;
      Status st = db_->write("test.create", [&](Tx& tx) -> Status {
        auto made = insert(tx, def(), *attrs, clock_);
        if (!made.ok()) return std::move(made).error();
        item = std::move(*made);
        return ok_status();
      });
      EXPECT_TRUE(st.ok()) << st.error().message;
      out.push_back(std::move(item));
    }
    return out;
  }

  Result<Page> page(const http::QueryParams& params) {
    auto q = parse_list_query(def(), params);
    if (!q.ok()) return std::move(q).error();
    Page out;
    Status st = db_->read("test.list", [&](Tx& tx) -> Status {
      auto p = list(tx, def(), *q);
      if (!p.ok()) return std::move(p).error();
      out = std::move(*p);
      return ok_status();
    });
    if (!st.ok()) return std::move(st).error();
    return out;
  }

  // Walks every page of `size` items for the sort in `params`.
  std::vector<std::string> walk(http::QueryParams params, int size) {
    params.add("limit", std::to_string(size), true);
    std::vector<std::string> all;
    std::string marker;
    for (int guard = 0; guard < 100; ++guard) {
      http::QueryParams p = params;
      if (!marker.empty()) p.add("marker", marker, true);
      auto got = page(p);
      EXPECT_TRUE(got.ok()) << got.error().message;
      if (!got.ok()) break;
      EXPECT_LE(got->items.size(), static_cast<size_t>(size));
      for (const auto& id : ids_of(got->items)) all.push_back(id);
      if (got->next_marker.empty()) break;
      marker = got->next_marker;
    }
    return all;
  }

  FakeClock clock_;
  EngineFixture engine_{std::get<0>(GetParam()), steps()};
  std::unique_ptr<store::sql::Db> db_;
};

TEST_P(ResourceContract, ACreatedItemReadsBackWithDefaultsAndStandardAttributes) {
  auto items = make(3);
  ASSERT_EQ(items.size(), 3u);
  for (const auto& made : items) {
    json::object got;
    ASSERT_TRUE(db_->read("test.get",
                          [&](Tx& tx) -> Status {
                            auto f = fetch(tx, def(), made.at("id").as_string());
                            if (!f.ok()) return std::move(f).error();
                            got = std::move(*f);
                            return ok_status();
                          })
                    .ok());
    EXPECT_EQ(got, made);
    EXPECT_EQ(got.at("revision_number").as_int64(), 1);
    EXPECT_EQ(got.at("created_at"), got.at("updated_at"));
    for (const Attr& attr : def().attrs) {
      ASSERT_TRUE(got.contains(attr.name)) << attr.name;
      if (!(attr.flags & kCreate) && !attr.default_json.empty()) {
        EXPECT_EQ(got.at(attr.name), *parse_json(attr.default_json)) << attr.name;
      }
    }
  }
}

TEST_P(ResourceContract, EveryFilterReturnsExactlyTheMatchingItems) {
  auto items = make(12);
  for (const Attr& attr : def().attrs) {
    if (!(attr.flags & kFilter)) continue;
    // One value, then two values (any of them).
    std::vector<std::string> values{text_of(items[0].at(attr.name))};
    for (const auto& it : items) {
      std::string v = text_of(it.at(attr.name));
      if (v != values[0]) {
        values.push_back(v);
        break;
      }
    }
    for (size_t n = 1; n <= values.size(); ++n) {
      http::QueryParams q;
      std::set<std::string> wanted_values(values.begin(), values.begin() + static_cast<long>(n));
      for (const auto& v : wanted_values) q.add(std::string(attr.name), v, true);
      std::vector<std::string> expected;
      for (const auto& it : items) {
        if (wanted_values.count(text_of(it.at(attr.name))))
          expected.emplace_back(it.at("id").as_string());
      }
      std::sort(expected.begin(), expected.end());
      auto got = page(q);
      ASSERT_TRUE(got.ok()) << attr.name << ": " << got.error().message;
      EXPECT_EQ(ids_of(got->items), expected) << attr.name << " with " << n << " value(s)";
    }
  }
  // Two filters together are both applied.
  const Attr* a = nullptr;
  const Attr* b = nullptr;
  for (const Attr& attr : def().attrs) {
    if (!(attr.flags & kFilter)) continue;
    if (a == nullptr) {
      a = &attr;
    } else if (b == nullptr) {
      b = &attr;
    }
  }
  if (a != nullptr && b != nullptr) {
    const std::string va = text_of(items[0].at(a->name)), vb = text_of(items[0].at(b->name));
    std::vector<std::string> expected;
    for (const auto& it : items) {
      if (text_of(it.at(a->name)) == va && text_of(it.at(b->name)) == vb) {
        expected.emplace_back(it.at("id").as_string());
      }
    }
    std::sort(expected.begin(), expected.end());
    auto got = page(query({{std::string(a->name), va}, {std::string(b->name), vb}}));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(ids_of(got->items), expected);
  }
}

TEST_P(ResourceContract, EverySortKeyOrdersBothWaysAndPagesWalkEveryItemOnce) {
  auto items = make(11);
  std::vector<const Attr*> sortable;
  for (const Attr& attr : def().attrs) {
    if (attr.flags & kSort) sortable.push_back(&attr);
  }
  for (const Attr* attr : sortable) {
    for (bool desc : {false, true}) {
      const std::string dir = desc ? "desc" : "asc";
      auto expected = sorted_ids(items, {SortKey{attr, desc}});
      auto got = page(query({{"sort_key", std::string(attr->name)}, {"sort_dir", dir}}));
      ASSERT_TRUE(got.ok()) << got.error().message;
      EXPECT_EQ(ids_of(got->items), expected) << attr->name << " " << dir;
      // The same order through sort=, and page by page through the marker.
      auto via_sort = page(query({{"sort", std::string(attr->name) + ":" + dir}}));
      ASSERT_TRUE(via_sort.ok());
      EXPECT_EQ(ids_of(via_sort->items), expected);
      for (int size : {1, 3, 4}) {
        EXPECT_EQ(walk(query({{"sort_key", std::string(attr->name)}, {"sort_dir", dir}}), size),
                  expected)
            << attr->name << " " << dir << " in pages of " << size;
      }
    }
  }
  // Two keys in opposite directions.
  if (sortable.size() >= 2) {
    std::vector<SortKey> keys{{sortable[0], false}, {sortable[1], true}};
    auto expected = sorted_ids(items, keys);
    auto params = query({{"sort_key", std::string(sortable[0]->name)},
                         {"sort_dir", "asc"},
                         {"sort_key", std::string(sortable[1]->name)},
                         {"sort_dir", "desc"}});
    auto got = page(params);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(ids_of(got->items), expected);
    EXPECT_EQ(walk(params, 2), expected);
  }
  // No sort key: by id; every page size walks everything once.
  auto by_id = sorted_ids(items, {});
  EXPECT_EQ(walk({}, 5), by_id);
  auto last = page(query({{"limit", "5"}, {"marker", by_id.back()}}));
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->items.empty());
  EXPECT_TRUE(last->next_marker.empty());
}

TEST_P(ResourceContract, FieldsShowOnlyWhatIsAskedAndNeverWhatIsHidden) {
  auto items = make(1);
  const json::object& item = items.front();
  auto all = render(def(), item);
  for (const auto& [key, value] : all) {
    const Attr* attr = find_attr(def(), key);
    if (attr != nullptr) {
      EXPECT_TRUE(attr->flags & kVisible) << key;
    }
  }
  EXPECT_TRUE(all.contains("id"));
  EXPECT_EQ(all.contains("revision_number"), def().show_standard);
  EXPECT_EQ(all.contains("created_at"), def().show_standard);
  if (def().ids == IdKind::kHex) {
    const std::string id(item.at("id").as_string());
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
  auto some = render(def(), item, {"id", std::string(def().attrs[0].name), "no_such_field"});
  EXPECT_EQ(some.size(), (def().attrs[0].flags & kVisible) ? 2u : 1u);
  // A JSON attribute comes back as it went in.
  for (const Attr& attr : def().attrs) {
    if (attr.type == Type::kJson && (attr.flags & kCreate)) {
      EXPECT_EQ(all.at(attr.name), value_for(attr, 0));
    }
  }
  auto q = parse_list_query(def(), query({{"fields", "id,created_at"}, {"fields", "updated_at"}}));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->fields, (std::vector<std::string>{"id", "created_at", "updated_at"}));
  EXPECT_EQ(render(def(), item, q->fields).size(), def().show_standard ? 3u : 1u);
}

TEST_P(ResourceContract, TagFiltersMatchAllAnyNotAllAndNone) {
  auto items = make(8);
  if (!def().tags) {
    auto refused = parse_list_query(def(), query({{"tags", "red"}}));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    return;
  }
  // Item i gets "red" if i is even, "blue" if i % 3 == 0, "green" if i == 5.
  std::map<std::string, std::set<std::string>> tags;
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<std::string> t;
    if (i % 2 == 0) t.push_back("red");
    if (i % 3 == 0) t.push_back("blue");
    if (i == 5) t.push_back("green");
    const std::string id(items[i].at("id").as_string());
    ASSERT_TRUE(
        db_->write("test.tags", [&](Tx& tx) { return set_tags(tx, def(), id, t, clock_); }).ok());
    tags[id] = {t.begin(), t.end()};
  }
  auto expect = [&](const std::string& key, const std::string& value, auto pred) {
    std::vector<std::string> expected;
    for (const auto& [id, t] : tags) {
      if (pred(t)) expected.push_back(id);
    }
    auto got = page(query({{key, value}}));
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(ids_of(got->items), expected) << key << "=" << value;
  };
  auto has = [](const std::set<std::string>& t, const char* x) { return t.count(x) > 0; };
  expect("tags", "red,blue", [&](const auto& t) { return has(t, "red") && has(t, "blue"); });
  expect("tags-any", "green,blue",
         [&](const auto& t) { return has(t, "green") || has(t, "blue"); });
  expect("not-tags", "red,blue", [&](const auto& t) { return !(has(t, "red") && has(t, "blue")); });
  expect("not-tags-any", "red,green",
         [&](const auto& t) { return !has(t, "red") && !has(t, "green"); });
  // Tags show in the item, sorted; each change moved the revision.
  const std::string id0(items[0].at("id").as_string());
  std::vector<std::string> got;
  ASSERT_TRUE(db_->read("test.tags",
                        [&](Tx& tx) -> Status {
                          auto t = tags_of(tx, def(), id0);
                          if (!t.ok()) return std::move(t).error();
                          got = std::move(*t);
                          return ok_status();
                        })
                  .ok());
  EXPECT_EQ(got, (std::vector<std::string>{"blue", "red"}));
  Status bad_tag =
      db_->write("test.tags", [&](Tx& tx) { return add_tag(tx, def(), id0, "a,b", clock_); });
  EXPECT_EQ(bad_tag.error().code, ErrorCode::kInvalidArgument);
  Status absent =
      db_->write("test.tags", [&](Tx& tx) { return remove_tag(tx, def(), id0, "nope", clock_); });
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
}

TEST_P(ResourceContract, EveryChangeMovesTheRevisionAndAnOutdatedOneIsRefused) {
  auto items = make(1);
  const std::string id(items[0].at("id").as_string());
  const Attr* updatable = nullptr;
  for (const Attr& attr : def().attrs) {
    if ((attr.flags & kUpdate) && attr.type == Type::kString) updatable = &attr;
  }
  ASSERT_NE(updatable, nullptr);
  clock_.advance(std::chrono::seconds(5));
  json::object body;
  body[updatable->name] = "changed";
  auto changes = check_update(def(), body);
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  json::object after;
  ASSERT_TRUE(db_->write("test.update",
                         [&](Tx& tx) -> Status {
                           auto u = update(tx, def(), id, *changes, int64_t{1}, clock_);
                           if (!u.ok()) return std::move(u).error();
                           after = std::move(*u);
                           return ok_status();
                         })
                  .ok());
  EXPECT_EQ(after.at("revision_number").as_int64(), 2);
  EXPECT_EQ(after.at(updatable->name), "changed");
  EXPECT_EQ(after.at("created_at"), items[0].at("created_at"));
  EXPECT_NE(after.at("updated_at"), items[0].at("updated_at"));
  // The change is seen by filters as well as reads.
  if (updatable->flags & kFilter) {
    auto got = page(query({{std::string(updatable->name), "changed"}}));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(ids_of(got->items), std::vector<std::string>{id});
  }
  Status stale = db_->write("test.update", [&](Tx& tx) {
    return update(tx, def(), id, *changes, int64_t{1}, clock_).ok()
               ? ok_status()
               : make_error(ErrorCode::kPreconditionFailed, "stale");
  });
  EXPECT_EQ(stale.error().code, ErrorCode::kPreconditionFailed);
  // revision_number filters like any attribute.
  auto at2 = page(query({{"revision_number", "2"}}));
  ASSERT_TRUE(at2.ok());
  EXPECT_EQ(ids_of(at2->items), std::vector<std::string>{id});
  ASSERT_TRUE(db_->write("test.delete", [&](Tx& tx) { return remove(tx, def(), id); }).ok());
  EXPECT_EQ(db_->write("test.delete", [&](Tx& tx) { return remove(tx, def(), id); }).error().code,
            ErrorCode::kNotFound);
}

TEST_P(ResourceContract, BadInputIsRefusedNamingWhatIsWrong) {
  auto items = make(2);
  json::object unknown = body_for(def(), 0);
  unknown["no_such_attribute"] = 1;
  unknown["id"] = "chosen-by-the-client";
  if (def().extra_attrs) {
    // Kept and shown, but the kit's own keys are not the client's to set.
    auto kept = check_create(def(), unknown);
    ASSERT_TRUE(kept.ok()) << kept.error().message;
    EXPECT_EQ(kept->at("no_such_attribute"), 1);
    EXPECT_FALSE(kept->contains("id"));
  } else {
    EXPECT_EQ(check_create(def(), unknown).error().code, ErrorCode::kInvalidArgument);
  }
  for (const Attr& attr : def().attrs) {
    json::object body = body_for(def(), 0);
    if ((attr.flags & kCreate) && attr.type != Type::kJson) {
      body[attr.name] = attr.type == Type::kString ? json::value(5) : json::value("five");
      auto r = check_create(def(), body);
      ASSERT_FALSE(r.ok()) << attr.name;
      EXPECT_NE(r.error().message.find(attr.name), std::string::npos) << r.error().message;
    } else if (!(attr.flags & kCreate)) {
      body[attr.name] = value_for(attr, 0);
      EXPECT_FALSE(check_create(def(), body).ok()) << attr.name << " is not settable on create";
    }
    if (attr.flags & kRequired) {
      json::object missing = body_for(def(), 0);
      missing.erase(attr.name);
      EXPECT_FALSE(check_create(def(), missing).ok()) << attr.name << " is required";
    }
    if (attr.type == Type::kString && attr.max_length > 0 && (attr.flags & kCreate)) {
      json::object too_long = body_for(def(), 0);
      too_long[attr.name] = std::string(attr.max_length + 1, 'x');
      EXPECT_FALSE(check_create(def(), too_long).ok()) << attr.name;
    }
    if (!(attr.flags & kUpdate)) {
      json::object upd;
      upd[attr.name] = value_for(attr, 1);
      EXPECT_FALSE(check_update(def(), upd).ok()) << attr.name << " is not updatable";
    }
    if ((attr.flags & kFilter) && attr.type != Type::kString) {
      EXPECT_FALSE(parse_list_query(def(), query({{std::string(attr.name), "not-a-value"}})).ok())
          << attr.name;
    }
    if (!(attr.flags & kSort)) {
      EXPECT_FALSE(parse_list_query(def(), query({{"sort_key", std::string(attr.name)}})).ok())
          << attr.name << " is not a sort key";
    }
  }
  EXPECT_FALSE(parse_list_query(def(), query({{"no_such_filter", "x"}})).ok());
  EXPECT_FALSE(parse_list_query(def(), query({{"sort_key", "id"}, {"sort_dir", "sideways"}})).ok());
  EXPECT_FALSE(parse_list_query(def(), query({{"sort_dir", "asc"}})).ok());
  EXPECT_FALSE(parse_list_query(def(), query({{"limit", "-1"}})).ok());
  EXPECT_FALSE(parse_list_query(def(), query({{"limit", "ten"}})).ok());
  auto missing_marker = page(query({{"limit", "1"}, {"marker", "no-such-id"}}));
  ASSERT_FALSE(missing_marker.ok());
  EXPECT_EQ(missing_marker.error().code, ErrorCode::kNotFound);
  // Nothing was stored by the refused creates.
  auto all = page({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 2u);
}

std::vector<Param> all_params() {
  std::vector<Param> out;
  for (Engine e : {Engine::kSqlite, Engine::kPostgres}) {
    for (const Declared& d : kResources) out.emplace_back(e, &d);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryEngineAndResource, ResourceContract,
                         ::testing::ValuesIn(all_params()), param_name);

}  // namespace
}  // namespace onestack::resource
