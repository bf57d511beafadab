// Declarative resources: why this exists.
//
// Four services bring about forty CRUD resources (networks, ports,
// servers, volumes, images, ...). Each is declared once, as data, the way
// neutron-lib's RESOURCE_ATTRIBUTE_MAP declares Neutron's: its attributes
// with their type, default and what a client may do with each (set it on
// create or update, see it, filter or sort a list by it). From a
// declaration come the table it is stored in, the validation of a create or
// update, the list query (filters, sort, keyset paging, fields, tags) as
// SQL on both engines, and the JSON. What is not plain CRUD (an IP
// allocation, a state machine) stays in the service's own functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace onestack::resource {

enum class Type {
  kString,  // JSON string; stored as TEXT
  kInt,     // JSON integer; stored as BIGINT
  kBool,    // JSON true/false; stored as BOOLEAN (0/1 on SQLite)
  kJson,    // any JSON value (an object of filters, a list); never a column
};

// How a new item's id is made.
enum class IdKind {
  kUuid,  // "8-4-4-4-12" (Neutron, Nova, Cinder, Glance)
  kHex,   // 32 lower-case hex characters (Keystone)
};

// What a client may do with an attribute.
enum Flag : uint32_t {
  kCreate = 1u << 0,    // may be given on create
  kUpdate = 1u << 1,    // may be changed on update
  kVisible = 1u << 2,   // shown in responses
  kFilter = 1u << 3,    // a list may filter by it (?name=x)
  kSort = 1u << 4,      // a list may sort by it (?sort_key=name)
  kRequired = 1u << 5,  // must be given on create
};

// One attribute. Attributes a list filters or sorts by are columns of the
// resource's table; the others live in its JSON document.
struct Attr {
  std::string_view name;
  Type type = Type::kString;
  uint32_t flags = 0;
  // Strings: the longest value accepted, in bytes (0: no limit).
  uint32_t max_length = 0;
  // The value when a create leaves it out, as JSON text ("" means null,
  // or required when kRequired is set): "\"\"", "true", "1500".
  std::string_view default_json = "";

  bool column() const { return type != Type::kJson && (flags & (kFilter | kSort)) != 0; }
};

// One resource.
struct Def {
  std::string_view member;      // "network": the JSON key of one
  std::string_view collection;  // "networks": of a list, and the path's last part
  std::string_view table;       // its table: columns id, created_at, updated_at,
                                // revision_number, doc, and one per column() attribute
  std::span<const Attr> attrs;  // without id and the standard attributes below
  bool tags = false;            // has a tag list (stored in resource_tags)
  // Attributes a client sends beyond the declared ones are kept and shown
  // (Keystone's additionalProperties: true) rather than refused.
  bool extra_attrs = false;
  // created_at, updated_at and revision_number are shown (Keystone shows
  // none of them; the kit keeps them either way).
  bool show_standard = true;
  IdKind ids = IdKind::kUuid;
  // What an error message calls one ("Endpoint Group"); empty: `member`.
  std::string_view title = {};

  // The attribute called `name`, or nullptr.
  const Attr* find(std::string_view name) const {
    for (const Attr& a : attrs) {
      if (a.name == name) return &a;
    }
    return nullptr;
  }
};

// Every resource has these, kept by the kit: "id" (a UUID the kit makes),
// "created_at" and "updated_at" (UTC, "2026-12-08T00:30:00Z"), and
// "revision_number" (1 on create, +1 on every update).
inline constexpr Attr kStandardAttrs[] = {
    {"id", Type::kString, kVisible | kFilter | kSort},
    {"created_at", Type::kString, kVisible | kSort},
    {"updated_at", Type::kString, kVisible | kSort},
    {"revision_number", Type::kInt, kVisible | kFilter | kSort},
};

// The attribute called `name` of `def` or the standard ones, or nullptr.
inline const Attr* find_attr(const Def& def, std::string_view name) {
  if (const Attr* a = def.find(name)) return a;
  for (const Attr& a : kStandardAttrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace onestack::resource
