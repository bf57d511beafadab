// A list request's query, parsed against a resource's declaration, and the
// SQL that answers it on both engines: filters, sort keys, keyset paging
// (limit and marker), fields and tag filters, as Neutron, Nova, Cinder and
// Glance accept them. One tested parser and one query builder instead of
// one per resource.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/http/request.h"
#include "core/result.h"
#include "resource/resource.h"
#include "store/sql/db.h"

namespace onestack::resource {

struct Filter {
  const Attr* attr;
  std::vector<std::string> values;  // matches any of them (a repeated key)
};

struct SortKey {
  const Attr* attr;
  bool descending = false;
};

struct ListQuery {
  std::vector<Filter> filters;
  std::vector<SortKey> sort;              // the kit adds "id" last, so the order is total
  int64_t limit = 0;                      // 0: no limit asked (the options' default applies)
  std::string marker;                     // the id of the last item of the previous page
  std::vector<std::string> fields;        // empty: every visible attribute
  std::vector<std::string> tags;          // has every one
  std::vector<std::string> tags_any;      // has at least one
  std::vector<std::string> not_tags;      // lacks at least one
  std::vector<std::string> not_tags_any;  // has none
};

struct ListOptions {
  int64_t default_limit = 0;  // without ?limit; 0: every item
  int64_t max_limit = 1000;   // a larger limit is lowered to this (0: none); limit=0 asks for all
  // Query keys the service handles itself (not filters).
  std::vector<std::string> extra_keys;
  // A key that is neither a filterable attribute, a list key nor an extra
  // key: an error (Neutron's filter_validation) or ignored.
  bool strict = true;
};

// Parses `query` for `def`:
//   <attr>=v (repeatable: any of), sort_key=k&sort_dir=asc|desc (paired,
//   repeatable) or sort=k[:asc|:desc][,...], limit=N, marker=id,
//   fields=a (repeatable) or fields=a,b, tags=a,b, tags-any=, not-tags=,
//   not-tags-any= (comma-separated, or repeated).
// kInvalidArgument naming the problem for an unknown attribute (when
// strict), a value of the wrong type (a bool filter takes true/false, an
// int filter digits), a sort key the declaration does not allow, an
// unknown sort direction, more sort_dir than sort_key values, a limit that
// is not a non-negative integer, tags on a resource without them.
Result<ListQuery> parse_list_query(const Def& def, const http::QueryParams& query,
                                   const ListOptions& options = {});

// The column an attribute is stored in ("router:external" ->
// "router_external").
std::string column_name(const Attr& attr);

// The statement of one page: SELECT id, doc, created_at, updated_at,
// revision_number (and the sort columns) FROM def.table WHERE <scope> AND
// <filters> AND <tags> AND <after the marker> ORDER BY <keys>, id LIMIT
// limit + 1 (the extra row tells whether a next page exists).
struct PageSql {
  std::string text;
  store::sql::Params params;
};

// `scope_sql` (may be empty) is ANDed in as is, with its parameters
// `scope_params` numbered first ("project_id = $1"). `marker_row` holds the
// marker's values of the sort columns, in ListQuery::sort order, then its
// id; nullopt for the first page.
PageSql build_page_sql(const Def& def, const ListQuery& q, int64_t limit,
                       std::string_view scope_sql, const store::sql::Params& scope_params,
                       const std::optional<std::vector<store::sql::Value>>& marker_row);

}  // namespace onestack::resource
