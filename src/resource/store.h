// The rows of declared resources (resource.h), read and written inside the
// caller's transaction (store/sql/db.h), so a service's domain rules and
// quota claims (store/sql/quota.h) commit or roll back with the change.
//
// A resource's table has the columns id, created_at, updated_at,
// revision_number and doc (the item's JSON, every attribute), plus one
// column per attribute a list filters or sorts by (Attr::column(), named by
// column_name()). Tags live in one table for every resource:
//   resource_tags (kind TEXT, resource_id TEXT, tag TEXT,
//                  PRIMARY KEY (kind, resource_id, tag))
// with kind the resource's table name. Tables come from each service's
// migrations, never from a declaration (check_schema() proves they match).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "resource/list_query.h"
#include "resource/resource.h"
#include "store/sql/db.h"

namespace onestack::resource {

using store::sql::Tx;

// Checks a create body against `def`: every key an attribute a client may
// create with (kCreate), of its type and length; required ones present;
// defaults filled in. Returns the attributes to store. kInvalidArgument
// naming the attribute otherwise, in words like Neutron's ("Attribute 'x'
// not allowed in POST", "Invalid input for name. Reason: ...").
Result<boost::json::object> check_create(const Def& def, const boost::json::object& body);
// Checks an update body: every key an attribute a client may update
// (kUpdate). Returns the changes.
Result<boost::json::object> check_update(const Def& def, const boost::json::object& body);

// Inserts a new item of the checked `attrs`, with a new id (unless attrs
// holds one), created_at = updated_at = now and revision_number 1. Returns
// the stored item (every attribute). kConflict when the id or a unique
// column clashes.
Result<boost::json::object> insert(Tx& tx, const Def& def, boost::json::object attrs,
                                   const Clock& clock = SystemClock::instance());

// The item with `id` within `scope_sql` (see build_page_sql), or kNotFound.
Result<boost::json::object> fetch(Tx& tx, const Def& def, std::string_view id,
                                  std::string_view scope_sql = {},
                                  const store::sql::Params& scope_params = {});

// One page of a list, and the id to pass as the next page's marker (empty
// on the last page). kNotFound for a marker that names no item in scope
// (each API says it its own way).
struct Page {
  std::vector<boost::json::object> items;
  std::string next_marker;
};
Result<Page> list(Tx& tx, const Def& def, const ListQuery& q, std::string_view scope_sql = {},
                  const store::sql::Params& scope_params = {});

// Applies checked `changes` to the item: updated_at = now, revision_number
// + 1. With `if_revision`, kPreconditionFailed unless the stored revision
// is that one (Neutron's If-Match: revision_number=N). Returns the item.
Result<boost::json::object> update(Tx& tx, const Def& def, std::string_view id,
                                   const boost::json::object& changes,
                                   std::optional<int64_t> if_revision = std::nullopt,
                                   const Clock& clock = SystemClock::instance());

// Deletes the item and its tags. kNotFound if absent.
Status remove(Tx& tx, const Def& def, std::string_view id);

// Tags of an item, sorted. Setting, adding or removing one bumps the item's
// revision_number and updated_at, as Neutron's standard attributes do.
// kNotFound for an unknown item (or, removing, an absent tag).
Result<std::vector<std::string>> tags_of(Tx& tx, const Def& def, std::string_view id);
Status set_tags(Tx& tx, const Def& def, std::string_view id, const std::vector<std::string>& tags,
                const Clock& clock = SystemClock::instance());
Status add_tag(Tx& tx, const Def& def, std::string_view id, std::string_view tag,
               const Clock& clock = SystemClock::instance());
Status remove_tag(Tx& tx, const Def& def, std::string_view id, std::string_view tag,
                  const Clock& clock = SystemClock::instance());

// The item as a response shows it: visible attributes only, and of those
// only `fields` when given (unknown names ignored, as Neutron does).
boost::json::object render(const Def& def, const boost::json::object& item,
                           const std::vector<std::string>& fields = {});

// Checks that `def.table` has every column the declaration needs (a query
// selecting them all from no rows). kInternal naming the table otherwise.
Status check_schema(Tx& tx, const Def& def);

}  // namespace onestack::resource
