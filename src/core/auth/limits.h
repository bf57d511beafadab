// The one thing every service needs from identity for its quotas: how much
// of a resource a project may hold, from Keystone's unified limits
// (registered limits and project limits). Implemented by the identity
// service, in process, from its in-memory snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace onestack::auth {

class LimitSource {
 public:
  virtual ~LimitSource() = default;
  // The limit of `resource` ("cores") of the service of type `service_type`
  // ("compute") for `project_id` in `region` ("" for a limit without one):
  // the project's own limit if it has one, else the registered limit's
  // default; nullopt when no limit is registered (the service's own
  // default applies). -1 means unlimited. Reads memory only; thread-safe.
  virtual std::optional<int64_t> limit(std::string_view service_type, std::string_view region,
                                       std::string_view resource,
                                       std::string_view project_id) const = 0;
};

}  // namespace onestack::auth
