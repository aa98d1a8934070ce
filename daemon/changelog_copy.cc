#include "daemon/changelog_copy.h"

#include <charconv>

#include "fmt/format.h"
#include "state/lmdb_env.h"

namespace segd {

std::string ChangelogBase::Encode() const {
  return fmt::format("{} {} {}", offset, seq, as_of_ms);
}

bool ChangelogBase::Decode(std::string_view text, ChangelogBase* out) {
  ChangelogBase b;
  const char* p = text.data();
  const char* end = p + text.size();
  auto r = std::from_chars(p, end, b.offset);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ') return false;
  r = std::from_chars(r.ptr + 1, end, b.seq);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ') return false;
  r = std::from_chars(r.ptr + 1, end, b.as_of_ms);
  if (r.ec != std::errc() || r.ptr != end || b.offset < 0) return false;
  *out = b;
  return true;
}

Status WriteChangelogBase(PartitionStore* store, const ChangelogBase& base) {
  return store->PutMeta(meta_key::kChangelogBase, base.Encode());
}

Result<std::optional<ChangelogBase>> ReadChangelogBase(PartitionStore* store) {
  SEGD_RETURN_IF_ERROR(store->Begin());
  auto text = store->GetMeta(meta_key::kChangelogBase);
  store->Abort();
  if (!text.ok()) return text.status();
  ChangelogBase b;
  if (!text->has_value() || !ChangelogBase::Decode(**text, &b)) {
    return std::optional<ChangelogBase>();
  }
  return std::optional<ChangelogBase>(b);
}

bool BaseUsable(const ChangelogBase& base, uint64_t last_seq, int64_t now_ms) {
  return base.seq == last_seq && now_ms - base.as_of_ms < kTailMaxAgeMs;
}

Status ApplyChangelog(PartitionStore* store, const std::vector<ChangelogRecord>& records,
                      const ChangelogBase& after) {
  while (true) {
    Status s = store->Begin();
    for (size_t i = 0; s.ok() && i < records.size(); ++i) {
      const ChangelogRecord& r = records[i];
      s = store->ApplyWrite(r.key, r.value ? std::optional<std::string_view>(*r.value)
                                           : std::nullopt);
    }
    if (s.ok()) s = WriteChangelogBase(store, after);
    if (s.ok()) s = store->Commit();
    if (!s.ok()) store->Abort();
    if (LmdbEnv::IsMapFull(s)) {
      SEGD_RETURN_IF_ERROR(store->Grow());
      continue;
    }
    return s;
  }
}

Result<bool> ChangelogComplete(PartitionStore* store) {
  auto mark = store->GetMeta(kChangelogMarkKey);
  if (!mark.ok()) return mark.status();
  return mark->has_value();
}

Result<bool> SendChangelogPart(PartitionStore* store, size_t max_keys) {
  auto from = store->GetMeta(meta_key::kChangelogSeed);
  if (!from.ok()) return from.status();
  if (!from->has_value()) SEGD_RETURN_IF_ERROR(store->DeleteMeta(kChangelogMarkKey));
  auto next = store->CaptureFrom(from->value_or(""), max_keys);
  if (!next.ok()) return next.status();
  if (next->has_value()) {
    SEGD_RETURN_IF_ERROR(store->PutMeta(meta_key::kChangelogSeed, **next));
    return false;
  }
  SEGD_RETURN_IF_ERROR(store->DeleteMeta(meta_key::kChangelogSeed));
  SEGD_RETURN_IF_ERROR(store->PutMeta(kChangelogMarkKey, "1"));
  return true;
}

Status ForgetChangelog(PartitionStore* store) {
  SEGD_RETURN_IF_ERROR(store->DeleteMeta(kChangelogMarkKey));
  return store->DeleteMeta(meta_key::kChangelogSeed);
}

}  // namespace segd
