// Fault injection: why this exists.
//
// The error paths of a write (a full disk, an I/O error, a short write, a
// failed fsync, a full or locked database) decide whether a client that saw
// an error can still see half of what it sent. They are hard to reach with
// real disks, so tests reach them through wrappers around the object store
// and the blob store (faulty_object_store.h, faulty_blob_store.h) and
// through the transaction seam every other store is written on
// (faulty_db.h), which fail
// at named points as a FaultPlan says, with exactly the errors the real
// backends return for the same failure (blob/fs maps ENOSPC and EDQUOT to
// kInsufficientStorage and other errno values to kInternal; store/sqlite
// maps SQLITE_FULL to kInsufficientStorage, SQLITE_BUSY/LOCKED to
// kUnavailable and the rest to kInternal), so the service answers as it
// would on a real fault.
//
// A plan is a list of rules, one a line:
//
//   POINT ERROR [count=N] [after=M] [short[=BYTES]]
//
// POINT names a call ("blob.write", "store.put_object"; see the wrappers'
// headers for the list). ERROR is one of ENOSPC, EDQUOT, EIO, SQLITE_FULL,
// SQLITE_IOERR, SQLITE_BUSY. The rule lets `after` calls at its point pass
// (default 0), then fails the next `count` (default 1; "count=-1" fails
// every call). "short" applies to blob.write: the write hands the first
// BYTES of its data (half when no number is given) to the real writer
// before it fails, as a write(2) that returned less than asked and then
// failed. Blank lines and lines starting with '#' are ignored. Several
// rules may name one point; the first that fires wins.
//
// For tests only: nothing here is reachable from a request, and a server
// uses a plan only when its configuration names a plan file ([debug]
// fault_file).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace onestack::fault {

enum class FaultKind {
  kEnospc,       // errno ENOSPC: kInsufficientStorage (507)
  kEdquot,       // errno EDQUOT: kInsufficientStorage (507)
  kEio,          // errno EIO: kInternal (500)
  kSqliteFull,   // SQLITE_FULL: kInsufficientStorage (507)
  kSqliteIoerr,  // SQLITE_IOERR: kInternal (500)
  kSqliteBusy,   // SQLITE_BUSY: kUnavailable (503)
};

struct FaultRule {
  std::string point;
  FaultKind kind = FaultKind::kEio;
  int64_t count = 1;  // calls that fail once armed; -1: every one
  int64_t after = 0;  // calls that pass first
  // blob.write only: bytes handed on before failing (-1: half the data).
  std::optional<int64_t> short_bytes;
};

// Parses a plan (the format above). kInvalidArgument naming the line on a
// malformed rule: an unknown error or option, a bad number. Point names are
// not checked (a rule for a point no wrapper has never fires).
Result<std::vector<FaultRule>> parse_plan(std::string_view text);

// The error the real backend returns for `kind` at `point`: code as the
// backend maps it, message naming the point, the failure and "injected".
Error fault_error(FaultKind kind, std::string_view point);

// What a firing rule asks of the wrapper.
struct Fault {
  FaultKind kind;
  std::optional<int64_t> short_bytes;
  Error error;
};

// A thread-safe plan: the rules, each with its count of calls seen and of
// faults fired. Either set in code (set_rules) or read from a file that is
// re-read whenever its modification time, size or inode changes (checked
// with one stat() per call at most; a file that cannot be parsed keeps the
// previous rules and logs why; a missing file means no rules).
class FaultPlan {
 public:
  FaultPlan() = default;
  // A plan read from `path` (which need not exist yet).
  explicit FaultPlan(std::string path);
  FaultPlan(const FaultPlan&) = delete;
  FaultPlan& operator=(const FaultPlan&) = delete;

  // Replaces the rules; their counters start at zero.
  void set_rules(std::vector<FaultRule> rules);

  // Called by a wrapper at `point` before it does the real work: counts
  // the call and returns the fault to inject, or nullopt to go ahead.
  // Logs each fault it fires (warning, "fault injected at POINT: ...").
  std::optional<Fault> hit(std::string_view point);

  // Whether a rule for `point` could still fire (not used up), without
  // counting a call. blob readers hide their file descriptor while
  // "blob.read" is armed, so the bytes go through read(), where it fires.
  bool armed(std::string_view point);

  // Faults fired at `point` since the rules were last set or re-read.
  uint64_t fired(std::string_view point);

 private:
  struct Armed {
    FaultRule rule;
    int64_t seen = 0;  // calls at the point while this rule was in force
    int64_t fired = 0;
  };
  // Re-reads the file if it changed. Requires mu_.
  void refresh_locked();

  const std::string path_;  // "" when the rules are set in code
  std::mutex mu_;
  std::vector<Armed> rules_;  // guarded by mu_
  // The file's identity when last read: mtime (ns), size, inode; guarded by mu_.
  int64_t file_mtime_ns_ = -1;
  int64_t file_size_ = -1;
  uint64_t file_ino_ = 0;
};

}  // namespace onestack::fault
