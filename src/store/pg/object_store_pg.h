// The object-storage metadata store on PostgreSQL: every ObjectStore method
// on a database that several nodes share, with the writes of one node's
// concurrent callers batched into shared commits.
//
// Group commit works as in the SQLite store (sqlite/object_store_sqlite.h):
// a writing thread enqueues its operation; the thread at the front of the
// queue leads, runs the queued operations (at most kMaxBatch) in one
// transaction, commits once and wakes each caller with its own result. One
// operation's failure undoes only that operation. Every statement is a
// network round trip here, so a batch first runs without savepoints: an
// operation refuses (kNotFound, kPreconditionFailed, ...) only before its
// first write, so its refusal leaves nothing to undo. Only when a statement
// fails (the transaction is then aborted) is the batch run again with a
// SAVEPOINT around each operation.
//
// What a shared database adds:
// - other nodes write the same rows, so every read-modify-write locks what
//   it reads: an object write first locks its container's row (which its
//   counter update needs anyway), so writes to one container serialize
//   across nodes and counters move by `object_count + 1` style updates; a
//   write that reuses a blob locks a row that refers to it, so another
//   node cannot free the blob meanwhile;
// - a batch that loses a deadlock or a serialization race is run again
//   whole (up to kMaxAttempts times); one that loses its connection fails
//   with kUnavailable (the caller answers 503) and the next batch opens a
//   fresh connection. A batch commits whole or not at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "blob/small_blob_table.h"
#include "store/group_commit.h"
#include "store/object_store.h"
#include "store/pg/pg.h"

namespace onestack::store::pg {

// Implements the ObjectStore contract (store/object_store.h) on PostgreSQL,
// leaving open what SqliteObjectStore leaves open in the same way (see its
// header). Names are compared by their bytes; the database must be UTF8.
// Thread-safe: any number of threads may call any method concurrently, and
// any number of stores (nodes) may share one database.
class PgObjectStore : public ObjectStore, public blob::SmallBlobTable {
 public:
  // Most operations one batch (one commit) carries.
  static constexpr size_t kMaxBatch = 256;
  // Runs of one batch that lost a deadlock or serialization race.
  static constexpr int kMaxAttempts = 5;
  // A listing with a delimiter fetches its rows in queries of this many,
  // doubling while no roll-up stops them (see fetch_range in the .cc).
  static constexpr size_t kRollUpChunk = 8;

  // Connects with `conninfo` and applies the object schema's pending
  // migrations (object_migrations_pg.h). The connection or migration error
  // otherwise (kInternal for a schema written by a newer binary).
  static Result<std::unique_ptr<PgObjectStore>> open(const std::string& conninfo,
                                                     PoolOptions options = {});
  // Wraps a pool whose database is migrated with object_migrations_pg().
  explicit PgObjectStore(std::unique_ptr<Pool> pool);
  ~PgObjectStore() override;

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
  // One atomic upsert that takes the lease when it is free, lapsed or
  // `holder`'s own, timed by the database's clock (nodes' clocks may
  // differ). Not part of a batch: it commits at once.
  Result<bool> acquire_lease(const std::string& name, const std::string& holder,
                             std::chrono::seconds ttl) override;

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
  // Batches run again after a deadlock or serialization failure.
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  // Rows the listing methods fetched, subdir roll-ups included: a page's
  // cost.
  uint64_t listing_rows_read() const { return listing_rows_.load(std::memory_order_relaxed); }

  Pool& pool() { return *pool_; }

 private:
  using Op = std::function<Status(Connection&)>;
  using Writer = GroupCommit<Op>::Entry;

  // Runs `op` in a group-committed write transaction and returns its result
  // once the transaction holding it has committed (or failed).
  Status write(const Op& op);
  // Runs the operations of `batch` in one transaction (again after a
  // retryable failure); sets each result.
  void run_batch(const std::vector<Writer*>& batch);
  // One run of `batch` in one transaction, with or without a savepoint
  // around each op. Sets `need_savepoints` when a statement of an op
  // failed in a run without them.
  Status run_once(const std::vector<Writer*>& batch, bool savepoints, bool& need_savepoints);
  // Locks the row of container `container` until the batch's transaction
  // ends (see lock_container in the .cc), once per batch; false if there
  // is no such container. Called only by ops, i.e. by the thread running
  // the batch.
  Result<bool> lock_container(Connection& conn, const std::string& account,
                              const std::string& container);

  std::unique_ptr<Pool> pool_;
  // Containers whose rows the running batch's transaction holds locked;
  // touched only by the thread running a batch.
  std::set<std::pair<std::string, std::string>> locked_;
  GroupCommit<Op> queue_{kMaxBatch};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> write_ops_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> listing_rows_{0};
};

}  // namespace onestack::store::pg
