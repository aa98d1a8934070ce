// libFuzzer target for RecordDecoder: any bytes, in both input formats and
// with several message contexts, must decode to a record that keeps the
// contract of SEMANTICS.md §1, or be refused with a named reason; the message
// context may only add its own reasons (key, future ts) after the record's.
// Crashes, sanitizer reports and broken invariants (abort) are findings.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/record_decoder.h"

namespace segd {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "record_decoder_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool IsScalar(const PropValue& value) { return !std::holds_alternative<std::monostate>(value); }

void CheckAccepted(const Record& r, const MessageContext& ctx) {
  Check(!r.user_id.empty(), "user_id is empty");
  Check(r.user_id.size() <= DecoderOptions::kMaxUserIdBytes, "user_id is too long");
  Check(r.ts_ms >= 0 && r.ts_ms <= kMaxTimestampMs, "ts is out of range");
  Check(r.ts_ms <= ctx.max_ts, "ts is past max_ts");
  Check(!ctx.key || *ctx.key == r.user_id, "key differs from user_id");
  Check(ctx.key || !ctx.key_required, "a required key is missing");
  if (r.has_event) {
    Check(!r.event.empty() && r.event.size() <= DecoderOptions::kMaxEventBytes, "bad event");
  } else {
    Check(r.event.empty() && r.props.empty(), "props or event name without an event");
  }
  for (const Prop& p : r.props) Check(IsScalar(p.value), "a props value is null");
  // "At least one action" is checked only as far as a Record shows it: an
  // empty `set` or `unset` is an action that leaves no trace here.
}

void CheckRejected(const Rejection& rejection, InputFormat format) {
  int reason = static_cast<int>(rejection.reason);
  Check(reason >= 0 && reason < kRejectReasonCount, "reason out of range");
  bool type_reason = rejection.reason == RejectReason::kInvalidType ||
                     rejection.reason == RejectReason::kUnsupportedType;
  Check(format == InputFormat::kSegment || !type_reason, "a type reason outside the preset");
  const char* name = ReasonName(rejection.reason);
  Check(name != nullptr && name[0] != '\0', "reason has no name");
  Check(!rejection.detail.empty(), "rejection has no detail");
}

bool SameProps(const std::vector<Prop>& a, const std::vector<Prop>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

bool SameRecord(const Record& a, const Record& b) {
  return a.user_id == b.user_id && a.ts_ms == b.ts_ms && a.has_event == b.has_event &&
         a.event == b.event && SameProps(a.props, b.props) && SameProps(a.set, b.set) &&
         a.unset == b.unset && a.ignored_values == b.ignored_values;
}

bool IsContextReason(RejectReason reason) {
  return reason == RejectReason::kKeyMismatch || reason == RejectReason::kMissingKey ||
         reason == RejectReason::kFutureTs;
}

// Decodes `bytes` with `ctx` and checks the outcome against `base`, the
// outcome without any context: the message checks come last, so a context
// can only refuse a record that `base` accepted, and only for its own reasons.
void CheckWithContext(RecordDecoder& decoder, InputFormat format, std::string_view bytes,
                      const MessageContext& ctx, const std::optional<Rejection>& base_rejection,
                      const Record& base) {
  Record record;
  auto rejection = decoder.Decode(bytes, ctx, &record);
  if (base_rejection) {
    Check(rejection && rejection->reason == base_rejection->reason, "a context changed a reason");
  } else if (rejection) {
    CheckRejected(*rejection, format);
    Check(IsContextReason(rejection->reason), "a context refused for a record reason");
  } else {
    CheckAccepted(record, ctx);
    Check(SameRecord(record, base), "a context or a second decode changed the record");
  }
}

void FuzzDecoder(RecordDecoder& decoder, InputFormat format, std::string_view bytes) {
  const MessageContext no_context;
  Record base;
  auto base_rejection = decoder.Decode(bytes, no_context, &base);
  if (base_rejection) {
    CheckRejected(*base_rejection, format);
  } else {
    CheckAccepted(base, no_context);
  }

  MessageContext contexts[5];
  contexts[1].key_required = true;
  contexts[2].key = bytes.substr(0, 3);
  contexts[2].key_required = true;
  contexts[3].key = bytes.substr(0, 1);
  contexts[3].max_ts = 1'000'000;
  // contexts[4]: same as the base, to check that a second decode agrees.
  for (const MessageContext& ctx : contexts) {
    CheckWithContext(decoder, format, bytes, ctx, base_rejection, base);
  }
  if (base_rejection) return;

  // The key checks against the decoded user id, both ways.
  MessageContext ctx;
  ctx.key = base.user_id;
  ctx.key_required = true;
  Record record;
  Check(!decoder.Decode(bytes, ctx, &record), "the user id as key was refused");
  std::string other_key = base.user_id + "x";
  ctx.key = other_key;
  auto rejection = decoder.Decode(bytes, ctx, &record);
  Check(rejection && rejection->reason == RejectReason::kKeyMismatch, "another key was accepted");
  if (base.ts_ms > 0) {
    MessageContext past;
    past.max_ts = base.ts_ms - 1;
    rejection = decoder.Decode(bytes, past, &record);
    Check(rejection && rejection->reason == RejectReason::kFutureTs, "a future ts was accepted");
  }
}

}  // namespace
}  // namespace segd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segd;
  static RecordDecoder* segd_decoder = new RecordDecoder();
  static RecordDecoder* segment_decoder = [] {
    DecoderOptions options;
    options.format = InputFormat::kSegment;
    return new RecordDecoder(options);
  }();

  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // ParseRfc3339Ms on its own: anything it accepts is in range.
  if (auto ms = ParseRfc3339Ms(bytes)) Check(*ms >= 0 && *ms <= kMaxTimestampMs, "rfc3339 range");

  FuzzDecoder(*segd_decoder, InputFormat::kSegd, bytes);
  FuzzDecoder(*segment_decoder, InputFormat::kSegment, bytes);
  return 0;
}
