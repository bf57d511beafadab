// An ObjectStore that fails where a FaultPlan says (fault_plan.h), for tests.
//
// Each method has the point "store.<method>" ("store.put_object",
// "store.get_object", "store.create_container", ...). A fault is injected
// before the real call, which then does not happen: as a failed SQLite
// transaction, nothing changes. SQLITE_FULL is kInsufficientStorage,
// SQLITE_BUSY kUnavailable, SQLITE_IOERR and EIO kInternal, as the real
// store maps them (store/sqlite/database.cc).
#pragma once

#include <memory>

#include "fault/fault_plan.h"
#include "store/object_store.h"

namespace onestack::fault {

// Forwards every call to `inner` unless `plan` injects a fault there.
// Thread-safe as `inner` is.
class FaultyObjectStore final : public store::ObjectStore {
 public:
  FaultyObjectStore(std::shared_ptr<store::ObjectStore> inner, std::shared_ptr<FaultPlan> plan);

  Result<store::AccountRecord> get_account(const std::string& account) override;
  Status ensure_account(const std::string& account, int64_t now_us) override;
  Status update_account_meta(const std::string& account, const store::Metadata& updates,
                             int64_t now_us) override;
  Result<std::vector<store::ContainerListEntry>> list_containers(
      const std::string& account, const store::ListQuery& q) override;
  Status scan_objects(const std::string& account, const std::string& container,
                      const store::ListQuery& q, const store::ObjectRowVisitor& visit) override;
  Result<bool> create_container(const store::ContainerRecord& c) override;
  Result<store::ContainerRecord> get_container(const std::string& account,
                                               const std::string& container) override;
  Status update_container_meta(const std::string& account, const std::string& container,
                               const store::Metadata& updates,
                               std::optional<int64_t> put_us) override;
  Status delete_container(const std::string& account, const std::string& container) override;
  Result<std::vector<store::ObjectListEntry>> list_objects(const std::string& account,
                                                           const std::string& container,
                                                           const store::ListQuery& q) override;
  Result<store::ObjectRecord> get_object(const std::string& account, const std::string& container,
                                         const std::string& name) override;
  Result<store::PutObjectResult> put_object(const store::ObjectRecord& o,
                                            const store::PutConditions& cond) override;
  Status update_object(const std::string& account, const std::string& container,
                       const std::string& name, const store::Metadata& meta,
                       const std::string& content_type, int64_t delete_at) override;
  Result<store::DeleteObjectResult> delete_object(
      const std::string& account, const std::string& container, const std::string& name,
      std::optional<int64_t> only_if_delete_at) override;
  Result<std::vector<store::ObjectRecord>> list_expired(int64_t now_unix, size_t limit) override;
  Result<bool> blob_referenced(const std::string& blob_id) override;
  Result<std::vector<store::ObjectRecord>> rows_for_blob(const std::string& blob_id,
                                                         size_t limit = 1) override;
  Result<std::vector<store::ContainerRecord>> list_sync_containers(const std::string& after_account,
                                                                   const std::string& after_name,
                                                                   size_t limit) override;
  Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                             std::chrono::seconds ttl) override;

 private:
  std::shared_ptr<store::ObjectStore> inner_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace onestack::fault
