// The listing walk of Swift's account and container listings, shared by
// the object stores of both engines: an engine supplies one range query
// (FetchPage) and the walk turns it into a page with Swift's markers,
// prefix, delimiter roll-ups and path semantics, at O(limit) queries.
// Internal to the object store backends (store/sqlite, store/pg).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "core/result.h"
#include "store/object_store.h"

namespace onestack::store::listing {

// The smallest string greater than every string that starts with `s`, in
// byte order: `s` with its last byte incremented, after dropping trailing
// 0xff bytes. nullopt when there is none (`s` is empty or all 0xff).
inline std::optional<std::string> successor(std::string s) {
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

// The bounds on `name` of one listing query.
struct NameRange {
  std::optional<std::string> lower;
  bool lower_inclusive = false;
  std::optional<std::string> upper;
  bool upper_inclusive = false;
};

// Receives a listing's entries in order; returns false to stop. The entry
// is the caller's to move from: the next row is read into it afresh.
template <typename Entry>
using Visit = std::function<bool(Entry&)>;

inline const std::string& entry_name(const ContainerListEntry& e) { return e.container.name; }
inline const std::string& entry_name(const ObjectListEntry& e) { return e.object.name; }
inline const std::string& entry_name(const ObjectListRow& e) { return e.name; }

// One listing page with Swift's semantics, as its account and container
// servers implement them (swift/account/backend.py list_containers_iter,
// swift/container/backend.py list_objects_iter):
// - reverse swaps the markers: `marker` becomes the exclusive upper bound
//   and `end_marker` the exclusive lower bound;
// - a prefix bounds the range to [prefix, successor(prefix));
// - with a delimiter, a name holding it after the prefix rolls up into the
//   subdir prefix + part + delimiter, listed once; the next query seeks past
//   every name under it, so a page costs O(limit) queries whatever the
//   number of names rolled up. A subdir equal to the starting marker (the
//   lower bound after the swap) is not listed again: it was the last entry
//   of the previous page;
// - `path` (object listings only) lists the direct children of path + "/": the
//   prefix becomes path with trailing slashes replaced by one ("" stays ""),
//   the delimiter "/", and names with more below the next "/" are skipped
//   without a roll-up; a name ending in that "/" is a child, the path itself
//   is not.
// Swift seeks past a skipped path subtree with a strict bound and so also
// skips a name equal to the bound itself (path "a" hides "a/b0" after
// "a/b/c"), and in reverse it skips the "a/b/" marker object it lists going
// forward; here both directions list the same children.
template <typename Entry>
using FetchPage = std::function<Status(const NameRange&, size_t limit, const Visit<Entry>&)>;

// `emit` receives each entry of the page in order (and may move from it).
template <typename Entry>
Status list_page(const ListQuery& q, bool allow_path, const FetchPage<Entry>& fetch,
                 const std::function<void(Entry&)>& emit) {
  size_t emitted = 0;
  std::string marker = q.marker;
  std::string end_marker = q.end_marker;
  if (q.reverse) std::swap(marker, end_marker);
  std::string prefix = q.prefix;
  std::string delimiter = q.delimiter;
  const bool path_mode = allow_path && q.path.has_value();
  if (path_mode) {
    prefix = *q.path;
    if (!prefix.empty()) {
      while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
      prefix += '/';
    }
    delimiter = "/";
  }
  const std::optional<std::string> end_prefix = prefix.empty() ? std::nullopt : successor(prefix);
  const std::string orig_marker = marker;
  bool marker_inclusive = false;
  bool end_marker_inclusive = false;

  while (emitted < q.limit) {
    NameRange r;
    if (!end_marker.empty() && (!end_prefix || end_marker < *end_prefix)) {
      r.upper = end_marker;
      r.upper_inclusive = end_marker_inclusive;
    } else if (end_prefix) {
      r.upper = *end_prefix;
    }
    if (marker_inclusive) {
      r.lower = marker;
      r.lower_inclusive = true;
    } else if (!marker.empty() && marker >= prefix) {
      r.lower = marker;
    } else if (!prefix.empty()) {
      r.lower = prefix;
      r.lower_inclusive = true;
    }
    marker_inclusive = false;
    end_marker_inclusive = false;
    const size_t want = q.limit - emitted;

    if (delimiter.empty()) {
      return fetch(r, want, [&](Entry& e) {
        emit(e);
        return true;
      });
    }

    size_t rows = 0;
    bool exhausted = false;
    // Moves the next query past every name under `dir` (which ends with the
    // delimiter): after it going forward, before it in reverse.
    auto seek_past = [&](const std::string& dir, bool include_dir_in_reverse) {
      if (q.reverse) {
        end_marker = dir;
        end_marker_inclusive = include_dir_in_reverse;
      } else if (auto next = successor(dir)) {
        marker = std::move(*next);
        marker_inclusive = true;
      } else {
        exhausted = true;
      }
    };
    ONESTACK_TRY(fetch(r, want, [&](Entry& e) {
      ++rows;
      const std::string& name = entry_name(e);
      if (q.reverse) {
        end_marker = name;
      } else {
        marker = name;
      }
      const size_t end = name.find(delimiter, prefix.size());
      if (path_mode) {
        if (name == prefix) return true;
        if (end != std::string::npos && name.size() > end + delimiter.size()) {
          seek_past(name.substr(0, end + delimiter.size()), /*include_dir_in_reverse=*/true);
          return false;
        }
      } else if (end != std::string::npos) {
        std::string dir = name.substr(0, end + delimiter.size());
        seek_past(dir, /*include_dir_in_reverse=*/false);
        if (dir != orig_marker) {
          Entry sub;
          sub.subdir = std::move(dir);
          emit(sub);
          ++emitted;
        }
        return false;
      }
      emit(e);
      return ++emitted < q.limit;
    }));
    if (rows == 0 || exhausted) break;
  }
  return ok_status();
}

}  // namespace onestack::store::listing
