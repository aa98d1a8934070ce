// One partition's users as a rule set sees them, read through a
// PartitionStore::Reader: stored records carried over to the rule set's
// plan (when the store was written under another one), memberships from
// the stored bitmaps, and the partition clock. Never writes. The admin API
// and `segd inspect` build explanations (rules/explain.h) and user reports
// (rules/user_report.h) on it.
//
// Typical use, on any thread, while the partition's worker writes:
//
//   auto reader = store->Read();                 // one LMDB read transaction
//   auto view = PartitionView::Open(&rules, reader->get());
//   auto user = view->LoadUser("u42");           // nullopt: not in this partition
//
// Thread-safety: like the Reader, one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rules/definitions.h"
#include "rules/plan.h"
#include "state/partition_store.h"
#include "state/user_record.h"

namespace segd::rules {

// Index of segment `id` in `rules`, or -1.
int FindSegment(const RuleSet& rules, std::string_view id);

class PartitionView {
 public:
  // `rules` is the rule set to read the state with: usually the stored
  // one (CompileStored), or another (then the state is carried over as the
  // engine would on its next start, and memberships are those stored for
  // the segment ids both have). REQUIRES: rules and reader outlive the view.
  static Result<PartitionView> Open(const RuleSet* rules, PartitionStore::Reader* reader);

  // The partition clock of the last commit (kNever before the first).
  int64_t now() const { return now_; }
  // The definitions the state is laid out for (nullopt before the first
  // commit).
  const std::optional<StoredDefinitions>& stored() const { return stored_; }
  const RuleSet& rules() const { return *rules_; }

  struct User {
    std::string user_id;
    uint32_t dense_id = 0;
    // The state shaped to rules(); `timer` and `changes` as stored
    // (changes by stored segment index: StoredSegmentId).
    UserRecord record;
    // Per segment of rules(): the stored membership (0 for a segment the
    // store has no bitmap for).
    std::vector<uint8_t> members;
  };
  // The user's stored state, or nullopt when this partition never saw them.
  Result<std::optional<User>> LoadUser(std::string_view user_id);

  // The id of the segment at stored definition index `index` (nullptr if
  // none): the key of UserRecord::changes.
  const std::string* StoredSegmentId(uint32_t index) const;

  // Calls fn(user id) for each stored member of segment `seg` of rules()
  // whose id sorts after `after` (bytewise; "" = from the first), in user
  // id order, until fn returns false. Pages of an HTTP listing resume with
  // the last id of the previous page.
  Status ForEachMember(int seg, std::string_view after,
                       const std::function<bool(std::string_view)>& fn);

 private:
  PartitionView(const RuleSet* rules, PartitionStore::Reader* reader)
      : rules_(rules), reader_(reader) {}
  Result<bool> IsMember(const std::string& segment, uint32_t dense_id);

  const RuleSet* rules_;
  PartitionStore::Reader* reader_;
  std::optional<StoredDefinitions> stored_;
  bool remap_ = false;  // the stored layout differs from rules()'s
  int64_t now_ = kNever;
};

}  // namespace segd::rules
