// Fault injection at the transaction seam (store/sql/db.h), for tests: one
// hook makes any named transaction of any store written on the seam fail as
// a FaultPlan says ("identity.create SQLITE_FULL"), instead of a wrapper per
// store interface. The transaction then does not run: as a failed one,
// nothing changes. Point names are the stores' transaction names (for the
// identity store, "identity.<method>": identity_store_sql.cc).
#pragma once

#include <memory>

#include "fault/fault_plan.h"
#include "store/sql/db.h"

namespace onestack::fault {

// The hook for Db::set_fault_hook. Shares `plan` (thread-safe).
store::sql::Db::FaultHook db_fault_hook(std::shared_ptr<FaultPlan> plan);

}  // namespace onestack::fault
