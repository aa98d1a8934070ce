// Decodes input records (SEMANTICS.md §1) from the bytes of a Kafka message.
//
// Every rejection carries a stable, machine-readable reason (ReasonName) that
// goes into the dead-letter topic's `segd.reason` header and the
// `segd_records_rejected_total{reason}` metric, plus a human-readable detail.
//
// Thread-safety: a RecordDecoder is used by one thread at a time (it owns a
// reusable simdjson parser); make one per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/record.h"

namespace segd {

enum class RejectReason {
  kTooLarge,        // the message is over max_record_bytes
  kInvalidJson,     // not JSON, or not UTF-8, or trailing bytes after the object;
                    // also (simdjson limits) nesting deeper than 1024 and numbers
                    // outside the 64-bit integer or double range
  kNotObject,       // valid JSON but not an object
  kDuplicateKey,    // some object in the document repeats a key
  kMissingUserId,   // no user id (or null)
  kInvalidUserId,   // empty, over 256 bytes, or neither a string nor an integer
  kMissingTs,       // no timestamp (or null)
  kInvalidTs,       // a float, out of range, or not RFC 3339 with T and offset
  kInvalidEvent,    // the event name is not a non-empty string of at most 128 bytes
                    // (or is missing from a Segment track call)
  kInvalidProps,    // props is neither an object nor null
  kInvalidSet,      // set is neither an object nor null
  kInvalidUnset,    // unset is not an array of strings
  kNoAction,        // neither an event nor set/unset
  kInvalidType,     // Segment-spec preset: `type` is missing, not a string, or not
                    // a Segment call type
  kKeyMismatch,     // the message key is set and differs from the user id
  kMissingKey,      // no message key, and the topic has more than one partition
  kFutureTs,        // wall clock: ts more than max_future_skew ahead of now
  kUnsupportedType,  // Segment-spec preset: a `group` or `alias` call, which segd
                     // does not read (checked where kInvalidType is)
};
inline constexpr int kRejectReasonCount = 18;

// The stable snake_case name of a reason, e.g. "invalid_ts".
const char* ReasonName(RejectReason reason);

// Which JSON fields hold what. Defaults are SEMANTICS.md §1's.
struct FieldNames {
  std::string user_id = "user_id";
  std::string event = "event";
  std::string ts = "ts";
  std::string props = "props";
  std::string set = "set";
  std::string unset = "unset";
};

enum class InputFormat {
  kSegd,     // SEMANTICS.md §1 with `fields`
  kSegment,  // Segment spec: type track/identify/page/screen, userId|anonymousId,
             // event, properties, traits, name, category, timestamp
             // (docs/input-formats.md). `fields` is not used.
};

// The events that Segment `page` and `screen` calls become.
inline constexpr std::string_view kSegmentPageEvent = "Page Viewed";
inline constexpr std::string_view kSegmentScreenEvent = "Screen Viewed";

struct DecoderOptions {
  InputFormat format = InputFormat::kSegd;
  FieldNames fields;
  size_t max_record_bytes = 64 * 1024;
  static constexpr size_t kMaxUserIdBytes = 256;
  static constexpr size_t kMaxEventBytes = 128;
};

// Per-message facts the decoder checks besides the bytes.
struct MessageContext {
  // The Kafka message key; nullopt when the message has none (or in replay).
  std::optional<std::string_view> key;
  // True when a record without a key must be refused (input topic with more
  // than one partition).
  bool key_required = false;
  // Records with ts above this are refused as kFutureTs (wall clock: now +
  // max_future_skew). INT64_MAX disables the check (event clock, replay).
  int64_t max_ts = INT64_MAX;
};

struct Rejection {
  RejectReason reason;
  std::string detail;  // for people: what was wrong, e.g. "ts 1.5 is a float"
};

class RecordDecoder {
 public:
  explicit RecordDecoder(DecoderOptions options = {});
  ~RecordDecoder();
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Decodes `bytes` into *out (cleared first). Returns nullopt on success, or
  // why the record is refused; *out is then unspecified.
  //
  // When several things are wrong, the first failing check names the reason:
  // size, JSON, object, duplicate key (in any object at any depth), type
  // (Segment preset only), user id, ts, event, props, set, unset, no action,
  // then the message key (kMissingKey when ctx.key is absent and required,
  // kKeyMismatch when it is present and differs from the user id's bytes),
  // then kFutureTs (ts > ctx.max_ts).
  //
  // Details of the contract (SEMANTICS.md §1) decided here:
  // - JSON null counts as absent for every field; unknown fields are ignored
  //   (but still checked for duplicate keys).
  // - An integer user id is read as its decimal string (42 -> "42", -0 -> "0").
  // - An empty `set` object or `unset` array is an action: the user is seen.
  // - `props` on a record without an event must still be an object or null,
  //   but its values are ignored (out->props stays empty).
  // - Inside props and set, nested objects and arrays (and nulls in props) are
  //   skipped and counted in out->ignored_values; a null in set is a Prop
  //   with std::monostate (unset).
  // - Segment preset: `type` "track" needs an `event` (props from
  //   `properties`); "identify" is a set of `traits` (absent or null traits
  //   is an empty set); "page" and "screen" are the events "Page Viewed" and
  //   "Screen Viewed" with props from `properties`, where the call's own
  //   `name` and `category` (strings, else kInvalidProps) replace those of
  //   `properties`; "group" and "alias" are kUnsupportedType; any other type
  //   is kInvalidType. The user is `userId`, or `anonymousId` only when
  //   userId is absent or null (an invalid userId is refused, not replaced).
  //   Other top-level fields (messageId, context, sentAt, ...) are ignored.
  std::optional<Rejection> Decode(std::string_view bytes, const MessageContext& ctx,
                                  Record* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses an RFC 3339 timestamp ("2026-11-22T08:00:00.123+08:00") into epoch
// milliseconds. `T`/`Z` may be lower case (RFC 3339 §5.6); an offset is
// required; digits beyond milliseconds are truncated; `:60` is refused.
// Returns nullopt for anything else or outside 0..kMaxTimestampMs.
std::optional<int64_t> ParseRfc3339Ms(std::string_view text);

}  // namespace segd
