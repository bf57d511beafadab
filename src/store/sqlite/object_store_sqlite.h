// The object-storage metadata store on SQLite: every ObjectStore method on a
// Database of its own (see database.h for the concurrency model), with the
// writes of concurrent callers batched into shared commits.
//
// Group commit follows LevelDB's writer queue: a writing thread enqueues its
// operation and waits; the thread at the front of the queue becomes the
// leader, takes the queued operations (at most kMaxBatch), runs them in one
// write transaction with a SAVEPOINT around each, commits once, and wakes
// each caller with its own result. One operation's failure (kNotFound,
// kPreconditionFailed, ...) rolls back only that operation; a failed commit
// fails every operation of the batch. While a batch commits, the next
// callers queue up and become the next batch, so under load one fsync serves
// many writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blob/small_blob_table.h"
#include "store/group_commit.h"
#include "store/object_store.h"
#include "store/sqlite/database.h"

namespace onestack::store::sqlite {

// Implements the ObjectStore contract (store/object_store.h) on SQLite.
// Where the contract leaves it open:
// - list_objects of a container that does not exist is kNotFound;
//   list_containers of an account that does not exist is an empty page;
// - create_container on an existing container also advances its put_us to
//   c.put_us when that is later; an account created implicitly by
//   create_container takes the container's timestamps;
// - `path` lists the same direct children forward and in reverse (Swift's
//   own seek skips a few; see list_page in the .cc);
// - rows_for_blob returns rows in (account, container, name) order.
// Thread-safe: any number of threads may call any method concurrently.
class SqliteObjectStore : public ObjectStore, public blob::SmallBlobTable {
 public:
  // Most operations one batch (one commit) carries.
  static constexpr size_t kMaxBatch = 256;

  // Opens (creating if needed) the database at `path` (":memory:" for a
  // private in-memory one) and applies the object schema's pending
  // migrations (object_migrations.h). Returns the open or migration error
  // (kInternal for a database written by a newer binary).
  static Result<std::unique_ptr<SqliteObjectStore>> open(const std::string& path,
                                                         Options options = {});
  // Wraps an already open database migrated with object_migrations().
  explicit SqliteObjectStore(std::unique_ptr<Database> db);
  ~SqliteObjectStore() override;

  Result<AccountRecord> get_account(const std::string& account) override;
  Status ensure_account(const std::string& account, int64_t now_us) override;
  Status update_account_meta(const std::string& account, const Metadata& updates,
                             int64_t now_us) override;
  Result<std::vector<ContainerListEntry>> list_containers(const std::string& account,
                                                          const ListQuery& q) override;
  Status scan_objects(const std::string& account, const std::string& container, const ListQuery& q,
                      const ObjectRowVisitor& visit) override;

  Result<bool> create_container(const ContainerRecord& c) override;
  Result<ContainerRecord> get_container(const std::string& account,
                                        const std::string& container) override;
  Status update_container_meta(const std::string& account, const std::string& container,
                               const Metadata& updates, std::optional<int64_t> put_us) override;
  Status delete_container(const std::string& account, const std::string& container) override;
  Result<std::vector<ObjectListEntry>> list_objects(const std::string& account,
                                                    const std::string& container,
                                                    const ListQuery& q) override;

  Result<ObjectRecord> get_object(const std::string& account, const std::string& container,
                                  const std::string& name) override;
  Result<PutObjectResult> put_object(const ObjectRecord& o, const PutConditions& cond) override;
  Status update_object(const std::string& account, const std::string& container,
                       const std::string& name, const Metadata& meta,
                       const std::string& content_type, int64_t delete_at) override;
  Result<DeleteObjectResult> delete_object(const std::string& account, const std::string& container,
                                           const std::string& name,
                                           std::optional<int64_t> only_if_delete_at) override;
  Result<std::vector<ObjectRecord>> list_expired(int64_t now_unix, size_t limit) override;
  Result<bool> blob_referenced(const std::string& blob_id) override;
  Result<std::vector<ObjectRecord>> rows_for_blob(const std::string& blob_id,
                                                  size_t limit = 1) override;
  Result<std::vector<ContainerRecord>> list_sync_containers(const std::string& after_account,
                                                            const std::string& after_name,
                                                            size_t limit) override;

  // Small blobs (blob/small_blob_table.h): rows of small_blobs, written
  // through the same group commit as the object rows.
  Status put_small_blob(const std::string& id, std::string_view data, int64_t mtime_unix) override;
  Result<std::shared_ptr<const std::string>> get_small_blob(const std::string& id) override;
  Status remove_small_blob(const std::string& id) override;
  Status quarantine_small_blob(const std::string& id) override;
  Status for_each_small_blob(const std::function<bool(const blob::BlobInfo&)>& fn) override;

  // Observability for tests and metrics; each is a running total since open.
  // Write transactions committed (or attempted): one per batch.
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Write operations submitted through the group-commit queue.
  uint64_t write_ops() const { return write_ops_.load(std::memory_order_relaxed); }
  // Rows the listing methods stepped over, subdir roll-ups included: a
  // page's cost.
  uint64_t listing_rows_read() const { return listing_rows_.load(std::memory_order_relaxed); }

  // The underlying database, for tests.
  Database& database() { return *db_; }

 private:
  using Op = std::function<Status(Connection&)>;
  using Writer = GroupCommit<Op>::Entry;

  // Runs `op` in a group-committed write transaction and returns its result
  // once the transaction holding it has committed (or failed).
  Status write(const Op& op);
  // Runs the operations of `batch` in one transaction; sets each result.
  void run_batch(const std::vector<Writer*>& batch);

  std::unique_ptr<Database> db_;
  GroupCommit<Op> queue_{kMaxBatch};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> write_ops_{0};
  std::atomic<uint64_t> listing_rows_{0};
};

}  // namespace onestack::store::sqlite
