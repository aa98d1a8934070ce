// A local store as a copy of its partition's changelog: where the copy
// ends, and applying the changelog's records onto it. Used by restores
// (from the beginning, or only the tail after a copy kept since the
// partition last left this instance) and by standby copies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "state/partition_store.h"

namespace segd {

// A store's position in its changelog (meta `changelog_base`, never itself
// sent to the changelog). The store's content is what applying the
// changelog partition's committed records before `offset`, in order, gives,
// for as long as its last outbox sequence is still `seq`: a batch written
// since makes it more than that. No record at or after `offset` was
// appended before `as_of_ms` (wall clock).
struct ChangelogBase {
  int64_t offset = 0;
  uint64_t seq = 0;
  int64_t as_of_ms = 0;

  std::string Encode() const;
  static bool Decode(std::string_view text, ChangelogBase* out);
};

// Compaction removes a tombstone delete.retention.ms (24 h on the
// changelog topics segd creates) after it was written. A copy older than
// half that may miss a deletion past its end: it is restored in full.
constexpr int64_t kTailMaxAgeMs = 12LL * 3600 * 1000;

// Sets the store's base, in the store's open transaction.
Status WriteChangelogBase(PartitionStore* store, const ChangelogBase& base);

// The store's base, if it has one (reads in its own transaction).
Result<std::optional<ChangelogBase>> ReadChangelogBase(PartitionStore* store);

// Whether `base` still describes a store whose last outbox sequence is
// `last_seq`, at wall time `now_ms`.
bool BaseUsable(const ChangelogBase& base, uint64_t last_seq, int64_t now_ms);

struct ChangelogRecord {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

// Applies `records` to the store and moves its base to `after`, in one LMDB
// transaction; a map too small for them is grown and the transaction
// redone.
Status ApplyChangelog(PartitionStore* store, const std::vector<ChangelogRecord>& records,
                      const ChangelogBase& after);

// A store's first changelog (the changelog turned on over a store that
// already holds state) goes a part per batch. Meta `changelog` marks a
// store whose whole content is in its changelog: a changelog holding it
// can stand for the store (a restore refuses one without it); meta
// `changelog_seed` (never itself sent) holds where the next part starts.
inline constexpr char kChangelogMarkKey[] = "changelog";

// Whether the store's whole content is in its changelog (in its open
// transaction).
Result<bool> ChangelogComplete(PartitionStore* store);
// Sends the next part of the store's content, up to `max_keys` keys, in
// the store's open transaction with capture on (with the batch's own
// writes): the first part withdraws a `changelog` mark the topic may hold
// from an earlier time the changelog was on; the last writes the mark.
// Returns whether the content is all sent.
Result<bool> SendChangelogPart(PartitionStore* store, size_t max_keys);
// With the changelog off: the store forgets that its content was (or was
// being) sent, so that turning it on again sends it all again.
Status ForgetChangelog(PartitionStore* store);

}  // namespace segd
