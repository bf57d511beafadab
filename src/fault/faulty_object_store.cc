#include "fault/faulty_object_store.h"

namespace onestack::fault {

// Returns the injected error from the enclosing method when `point` fires.
#define ONESTACK_FAULT_POINT(point)                 \
  do {                                              \
    if (auto onestack_fault_ = plan_->hit(point)) { \
      return std::move(onestack_fault_->error);     \
    }                                               \
  } while (0)

FaultyObjectStore::FaultyObjectStore(std::shared_ptr<store::ObjectStore> inner,
                                     std::shared_ptr<FaultPlan> plan)
    : inner_(std::move(inner)), plan_(std::move(plan)) {}

Result<store::AccountRecord> FaultyObjectStore::get_account(const std::string& account) {
  ONESTACK_FAULT_POINT("store.get_account");
  return inner_->get_account(account);
}

Status FaultyObjectStore::ensure_account(const std::string& account, int64_t now_us) {
  ONESTACK_FAULT_POINT("store.ensure_account");
  return inner_->ensure_account(account, now_us);
}

Status FaultyObjectStore::update_account_meta(const std::string& account,
                                              const store::Metadata& updates, int64_t now_us) {
  ONESTACK_FAULT_POINT("store.update_account_meta");
  return inner_->update_account_meta(account, updates, now_us);
}

Result<std::vector<store::ContainerListEntry>> FaultyObjectStore::list_containers(
    const std::string& account, const store::ListQuery& q) {
  ONESTACK_FAULT_POINT("store.list_containers");
  return inner_->list_containers(account, q);
}

Status FaultyObjectStore::scan_objects(const std::string& account, const std::string& container,
                                       const store::ListQuery& q,
                                       const store::ObjectRowVisitor& visit) {
  ONESTACK_FAULT_POINT("store.scan_objects");
  return inner_->scan_objects(account, container, q, visit);
}

Result<bool> FaultyObjectStore::create_container(const store::ContainerRecord& c) {
  ONESTACK_FAULT_POINT("store.create_container");
  return inner_->create_container(c);
}

Result<store::ContainerRecord> FaultyObjectStore::get_container(const std::string& account,
                                                                const std::string& container) {
  ONESTACK_FAULT_POINT("store.get_container");
  return inner_->get_container(account, container);
}

Status FaultyObjectStore::update_container_meta(const std::string& account,
                                                const std::string& container,
                                                const store::Metadata& updates,
                                                std::optional<int64_t> put_us) {
  ONESTACK_FAULT_POINT("store.update_container_meta");
  return inner_->update_container_meta(account, container, updates, put_us);
}

Status FaultyObjectStore::delete_container(const std::string& account,
                                           const std::string& container) {
  ONESTACK_FAULT_POINT("store.delete_container");
  return inner_->delete_container(account, container);
}

Result<std::vector<store::ObjectListEntry>> FaultyObjectStore::list_objects(
    const std::string& account, const std::string& container, const store::ListQuery& q) {
  ONESTACK_FAULT_POINT("store.list_objects");
  return inner_->list_objects(account, container, q);
}

Result<store::ObjectRecord> FaultyObjectStore::get_object(const std::string& account,
                                                          const std::string& container,
                                                          const std::string& name) {
  ONESTACK_FAULT_POINT("store.get_object");
  return inner_->get_object(account, container, name);
}

Result<store::PutObjectResult> FaultyObjectStore::put_object(const store::ObjectRecord& o,
                                                             const store::PutConditions& cond) {
  ONESTACK_FAULT_POINT("store.put_object");
  return inner_->put_object(o, cond);
}

Status FaultyObjectStore::update_object(const std::string& account, const std::string& container,
                                        const std::string& name, const store::Metadata& meta,
                                        const std::string& content_type, int64_t delete_at) {
  ONESTACK_FAULT_POINT("store.update_object");
  return inner_->update_object(account, container, name, meta, content_type, delete_at);
}

Result<store::DeleteObjectResult> FaultyObjectStore::delete_object(
    const std::string& account, const std::string& container, const std::string& name,
    std::optional<int64_t> only_if_delete_at) {
  ONESTACK_FAULT_POINT("store.delete_object");
  return inner_->delete_object(account, container, name, only_if_delete_at);
}

Result<std::vector<store::ObjectRecord>> FaultyObjectStore::list_expired(int64_t now_unix,
                                                                         size_t limit) {
  ONESTACK_FAULT_POINT("store.list_expired");
  return inner_->list_expired(now_unix, limit);
}

Result<bool> FaultyObjectStore::blob_referenced(const std::string& blob_id) {
  ONESTACK_FAULT_POINT("store.blob_referenced");
  return inner_->blob_referenced(blob_id);
}

Result<std::vector<store::ObjectRecord>> FaultyObjectStore::rows_for_blob(
    const std::string& blob_id, size_t limit) {
  ONESTACK_FAULT_POINT("store.rows_for_blob");
  return inner_->rows_for_blob(blob_id, limit);
}

Result<std::vector<store::ContainerRecord>> FaultyObjectStore::list_sync_containers(
    const std::string& after_account, const std::string& after_name, size_t limit) {
  ONESTACK_FAULT_POINT("store.list_sync_containers");
  return inner_->list_sync_containers(after_account, after_name, limit);
}

Result<bool> FaultyObjectStore::acquire_lease(const std::string& name, const std::string& holder,
                                              std::chrono::seconds ttl) {
  ONESTACK_FAULT_POINT("store.acquire_lease");
  return inner_->acquire_lease(name, holder, ttl);
}

#undef ONESTACK_FAULT_POINT

}  // namespace onestack::fault
