// The Fernet key repository, laid out exactly as `keystone-manage
// fernet_setup` / `fernet_rotate` lay it out, so one directory can serve
// Keystone and onestack side by side (keystone/common/fernet_utils.py):
//   - each key is a file named by a non-negative integer, holding the key text;
//   - "0" is the staged key (the next primary), the highest number is the
//     primary (used to encrypt), every other one is a secondary (decrypt only);
//   - files are 0600, the directory 0700; files whose names are not integers
//     (such as the "0.tmp" a rotation writes first) and empty files are ignored.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "identity/token/fernet.h"

namespace onestack::identity::token {

// Keystone's default `[fernet_tokens] max_active_keys`.
inline constexpr int kDefaultMaxActiveKeys = 3;

// The keys of one repository, primary first, then the others by descending
// file number (the staged key "0" last). Immutable once built.
struct KeySet {
  std::vector<FernetKey> keys;
  std::vector<int> indexes;  // file number of each key, parallel to `keys`
};

struct KeyRepository {
  // Creates `dir` (0700) if missing, then, unless a staged key "0" already
  // exists (then it does nothing: idempotent), writes a staged key and
  // rotates once with `max_active_keys`, leaving "0" (staged) and "1"
  // (primary) in a new repository (only "0" with max_active_keys = 1, as
  // keystone). Returns kInvalidArgument for max_active_keys < 1, kUnavailable
  // on filesystem errors. Not safe to run concurrently with another
  // setup/rotate of the same directory.
  static Status setup(const std::filesystem::path& dir,
                      int max_active_keys = kDefaultMaxActiveKeys);

  // One keystone rotation: writes a new key to "0.tmp", promotes the staged
  // key "0" to primary (highest number + 1), renames "0.tmp" to "0", then
  // deletes the lowest-numbered keys until `max_active_keys` remain counting
  // the new staged key. Every file is written to a temporary, fsynced, then
  // renamed; the directory is fsynced. Returns kInvalidArgument for
  // max_active_keys < 1, kPreconditionFailed when there is no staged key,
  // kUnavailable on filesystem errors. Not safe to run concurrently with
  // another setup/rotate of the same directory (readers are fine: each file
  // appears whole).
  static Status rotate(const std::filesystem::path& dir,
                       int max_active_keys = kDefaultMaxActiveKeys);

  // Reads every key, primary first. Returns kUnavailable when the directory
  // cannot be read or holds no key, kInvalidArgument naming the file when a
  // key file does not hold a valid key. Thread-safe.
  static Result<KeySet> load(const std::filesystem::path& dir);
};

}  // namespace onestack::identity::token
