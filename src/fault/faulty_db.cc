#include "fault/faulty_db.h"

namespace onestack::fault {

store::sql::Db::FaultHook db_fault_hook(std::shared_ptr<FaultPlan> plan) {
  return [plan = std::move(plan)](std::string_view point) -> std::optional<Error> {
    if (auto fault = plan->hit(point)) return std::move(fault->error);
    return std::nullopt;
  };
}

}  // namespace onestack::fault
