// Record decoding with simdjson's DOM API. The DOM parser validates the whole
// document (syntax, UTF-8, trailing bytes) before we look at any field, which
// the on-demand API does not do for values it skips; the decoder then walks
// the tape once for duplicate keys and reads the fields it needs.
#include "stream/record_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segd {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Objects up to this many keys are checked for duplicates pairwise; sorting
// costs more than it saves below that.
constexpr size_t kPairwiseDuplicateScanMax = 16;
// Values echoed in details are cut to this many bytes.
constexpr size_t kMaxQuotedBytes = 64;

std::optional<Rejection> Reject(RejectReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}

// The JSON type of `value` as details name it ("an integer", "null", ...).
const char* TypeName(element value) {
  switch (value.type()) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a float";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "an unknown value";
}

// `text` in double quotes for a detail: at most kMaxQuotedBytes (cut on a
// UTF-8 boundary), quotes and backslashes escaped and control bytes shown as
// '?', so that the detail stays one printable line.
std::string Quote(std::string_view text) {
  bool cut = text.size() > kMaxQuotedBytes;
  if (cut) {
    size_t end = kMaxQuotedBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

std::string FormatDouble(double value) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::string("?");
}

// Returns a key that some object within `value` (at any depth, `value`
// included) holds twice. The recursion is bounded by simdjson's maximum
// nesting depth (1024), which the parser has already enforced. `keys` is
// scratch space, reused so that steady-state decoding does not allocate.
std::optional<std::string_view> FindDuplicateKey(element value,
                                                 std::vector<std::string_view>* keys) {
  object obj;
  array arr;
  if (value.get_object().get(obj) == simdjson::SUCCESS) {
    keys->clear();
    for (auto field : obj) keys->push_back(field.key);
    if (keys->size() <= kPairwiseDuplicateScanMax) {
      for (size_t i = 1; i < keys->size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if ((*keys)[i] == (*keys)[j]) return (*keys)[i];
        }
      }
    } else {
      std::sort(keys->begin(), keys->end());
      auto dup = std::adjacent_find(keys->begin(), keys->end());
      if (dup != keys->end()) return *dup;
    }
    for (auto field : obj) {
      if (auto dup = FindDuplicateKey(field.value, keys)) return dup;
    }
  } else if (value.get_array().get(arr) == simdjson::SUCCESS) {
    for (element item : arr) {
      if (auto dup = FindDuplicateKey(item, keys)) return dup;
    }
  }
  return std::nullopt;
}

// One top-level field of a record: its name (for details) and its value,
// nullopt when the field is absent or null.
struct Field {
  std::string_view name;
  std::optional<element> value;
};

Field Lookup(const object& obj, std::string_view name) {
  Field field{name, std::nullopt};
  element value;
  if (obj.at_key(name).get(value) == simdjson::SUCCESS && !value.is_null()) field.value = value;
  return field;
}

// Where the parts of a record are, whichever input format they came from.
struct Layout {
  Field user, ts, event, props, set, unset;
  bool event_required = false;  // Segment track: the event is the point
  bool set_implied = false;     // Segment identify: a set even without traits
  std::string_view fixed_event;  // Segment page/screen: the event, whatever the fields
  Field call_props[2];           // Segment page/screen: `name`, `category` (override props)
};

Layout SegdLayout(const object& obj, const FieldNames& names) {
  Layout layout;
  layout.user = Lookup(obj, names.user_id);
  layout.ts = Lookup(obj, names.ts);
  layout.event = Lookup(obj, names.event);
  layout.props = Lookup(obj, names.props);
  layout.set = Lookup(obj, names.set);
  layout.unset = Lookup(obj, names.unset);
  return layout;
}

std::optional<Rejection> SegmentLayout(const object& obj, Layout* layout) {
  Field type = Lookup(obj, "type");
  std::string_view type_name;
  if (!type.value || type.value->get_string().get(type_name) != simdjson::SUCCESS) {
    return Reject(RejectReason::kInvalidType,
                  type.value ? std::string("type is ") + TypeName(*type.value) + ", not a string"
                             : "type is missing");
  }
  layout->user = Lookup(obj, "userId");
  if (!layout->user.value) {
    layout->user = Lookup(obj, "anonymousId");
    if (!layout->user.value) layout->user.name = "userId or anonymousId";
  }
  layout->ts = Lookup(obj, "timestamp");
  if (type_name == "track") {
    layout->event = Lookup(obj, "event");
    layout->props = Lookup(obj, "properties");
    layout->event_required = true;
  } else if (type_name == "identify") {
    layout->set = Lookup(obj, "traits");
    layout->set_implied = true;
  } else if (type_name == "page" || type_name == "screen") {
    layout->fixed_event = type_name == "page" ? kSegmentPageEvent : kSegmentScreenEvent;
    layout->props = Lookup(obj, "properties");
    layout->call_props[0] = Lookup(obj, "name");
    layout->call_props[1] = Lookup(obj, "category");
  } else if (type_name == "group" || type_name == "alias") {
    // Valid Segment calls that map to nothing segd keeps: a group's traits
    // belong to the group, and an alias would merge two users' histories.
    return Reject(RejectReason::kUnsupportedType,
                  std::string(type_name) +
                      " calls are not read: segd reads track, identify, page and screen");
  } else {
    return Reject(RejectReason::kInvalidType,
                  "type " + Quote(type_name) +
                      " is not \"track\", \"identify\", \"page\" or \"screen\"");
  }
  return std::nullopt;
}

std::optional<Rejection> DecodeUserId(const Field& field, std::string* out) {
  std::string name(field.name);
  if (!field.value) return Reject(RejectReason::kMissingUserId, name + " is missing");
  element value = *field.value;
  switch (value.type()) {
    case element_type::STRING: *out = value.get_string().value_unsafe(); break;
    case element_type::INT64: *out = std::to_string(value.get_int64().value_unsafe()); break;
    case element_type::UINT64: *out = std::to_string(value.get_uint64().value_unsafe()); break;
    default:
      return Reject(RejectReason::kInvalidUserId,
                    name + " is " + TypeName(value) + ", not a string or an integer");
  }
  if (out->empty()) return Reject(RejectReason::kInvalidUserId, name + " is empty");
  if (out->size() > DecoderOptions::kMaxUserIdBytes) {
    return Reject(RejectReason::kInvalidUserId,
                  name + " is " + std::to_string(out->size()) + " bytes, over " +
                      std::to_string(DecoderOptions::kMaxUserIdBytes));
  }
  return std::nullopt;
}

std::optional<Rejection> TsOutOfRange(const std::string& name, const std::string& ts) {
  return Reject(RejectReason::kInvalidTs,
                name + " " + ts + " is out of range 0.." + std::to_string(kMaxTimestampMs));
}

std::optional<Rejection> DecodeTs(const Field& field, int64_t* out) {
  std::string name(field.name);
  if (!field.value) return Reject(RejectReason::kMissingTs, name + " is missing");
  element value = *field.value;
  std::string_view text;
  switch (value.type()) {
    case element_type::INT64:
      *out = value.get_int64().value_unsafe();
      if (*out >= 0 && *out <= kMaxTimestampMs) return std::nullopt;
      return TsOutOfRange(name, std::to_string(*out));
    case element_type::UINT64:  // only integers above INT64_MAX are UINT64
      return TsOutOfRange(name, std::to_string(value.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      if (double d = value.get_double().value_unsafe(); d >= 0x1p63 || d < -0x1p63) {
        return TsOutOfRange(name, FormatDouble(d));  // e.g. an integer beyond 64 bits
      }
      return Reject(RejectReason::kInvalidTs,
                    name + " " + FormatDouble(value.get_double().value_unsafe()) +
                        " is a float, not integer milliseconds");
    case element_type::STRING:
      text = value.get_string().value_unsafe();
      if (auto ms = ParseRfc3339Ms(text)) {
        *out = *ms;
        return std::nullopt;
      }
      return Reject(RejectReason::kInvalidTs,
                    name + " " + Quote(text) +
                        " is not an RFC 3339 time with T and an offset in 1970..9999");
    default:
      return Reject(RejectReason::kInvalidTs,
                    name + " is " + TypeName(value) +
                        ", not integer milliseconds or an RFC 3339 string");
  }
}

std::optional<Rejection> DecodeEvent(const Field& field, bool required, Record* out) {
  std::string name(field.name);
  if (!field.value) {
    if (required) return Reject(RejectReason::kInvalidEvent, "a track call needs an " + name);
    return std::nullopt;
  }
  std::string_view text;
  if (field.value->get_string().get(text) != simdjson::SUCCESS) {
    return Reject(RejectReason::kInvalidEvent,
                  name + " is " + TypeName(*field.value) + ", not a string");
  }
  if (text.empty()) return Reject(RejectReason::kInvalidEvent, name + " is empty");
  if (text.size() > DecoderOptions::kMaxEventBytes) {
    return Reject(RejectReason::kInvalidEvent,
                  name + " is " + std::to_string(text.size()) + " bytes, over " +
                      std::to_string(DecoderOptions::kMaxEventBytes));
  }
  out->has_event = true;
  out->event = text;
  return std::nullopt;
}

// Reads the scalar `value` into *out. Returns false for nested objects and
// arrays, and for null unless `null_is_missing` (a null in `set` unsets).
bool ReadScalar(element value, bool null_is_missing, PropValue* out) {
  switch (value.type()) {
    case element_type::STRING:
      *out = std::string(value.get_string().value_unsafe());
      return true;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:  // every JSON number is a double (SEMANTICS.md §3)
      *out = value.get_double().value_unsafe();
      return true;
    case element_type::BOOL:
      *out = value.get_bool().value_unsafe();
      return true;
    case element_type::NULL_VALUE:
      *out = std::monostate();
      return null_is_missing;
    case element_type::ARRAY:
    case element_type::OBJECT:
      return false;
  }
  return false;
}

// Checks that `field` is an object (or absent) and, when `out` is non-null,
// appends its scalar values in document order; skipped values are counted.
std::optional<Rejection> DecodeProps(const Field& field, RejectReason reason, bool null_is_missing,
                                     std::vector<Prop>* out, uint32_t* ignored) {
  if (!field.value) return std::nullopt;
  object obj;
  if (field.value->get_object().get(obj) != simdjson::SUCCESS) {
    return Reject(reason, std::string(field.name) + " is " + TypeName(*field.value) +
                              ", not an object or null");
  }
  if (out == nullptr) return std::nullopt;
  out->reserve(obj.size());
  for (auto entry : obj) {
    Prop prop{std::string(entry.key), {}};
    if (ReadScalar(entry.value, null_is_missing, &prop.value)) {
      out->push_back(std::move(prop));
    } else {
      ++*ignored;
    }
  }
  return std::nullopt;
}

// A Segment page/screen call's own `name` or `category`: a string that
// replaces the prop of that name, as Segment's libraries copy it into
// `properties` and let it win.
std::optional<Rejection> DecodeCallProp(const Field& field, std::vector<Prop>* props) {
  if (!field.value) return std::nullopt;
  std::string_view text;
  if (field.value->get_string().get(text) != simdjson::SUCCESS) {
    return Reject(RejectReason::kInvalidProps, std::string(field.name) + " is " +
                                                   TypeName(*field.value) + ", not a string");
  }
  auto same = std::find_if(props->begin(), props->end(),
                           [&](const Prop& p) { return p.name == field.name; });
  if (same != props->end()) {
    same->value = std::string(text);
  } else {
    props->push_back(Prop{std::string(field.name), std::string(text)});
  }
  return std::nullopt;
}

std::optional<Rejection> DecodeUnset(const Field& field, std::vector<std::string>* out) {
  if (!field.value) return std::nullopt;
  std::string name(field.name);
  array names;
  if (field.value->get_array().get(names) != simdjson::SUCCESS) {
    return Reject(RejectReason::kInvalidUnset,
                  name + " is " + TypeName(*field.value) + ", not an array of strings");
  }
  for (element item : names) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return Reject(RejectReason::kInvalidUnset,
                    name + " element " + std::to_string(out->size()) + " is " + TypeName(item) +
                        ", not a string");
    }
    out->emplace_back(text);
  }
  return std::nullopt;
}

// The field checks of Decode, in the documented order.
std::optional<Rejection> DecodeLayout(const Layout& layout, Record* out) {
  if (auto r = DecodeUserId(layout.user, &out->user_id)) return r;
  if (auto r = DecodeTs(layout.ts, &out->ts_ms)) return r;
  if (!layout.fixed_event.empty()) {
    out->has_event = true;
    out->event = layout.fixed_event;
  } else if (auto r = DecodeEvent(layout.event, layout.event_required, out)) {
    return r;
  }
  // Props without an event have nothing to describe: type-checked, then dropped.
  std::vector<Prop>* props = out->has_event ? &out->props : nullptr;
  if (auto r = DecodeProps(layout.props, RejectReason::kInvalidProps, /*null_is_missing=*/false,
                           props, &out->ignored_values)) {
    return r;
  }
  for (const Field& field : layout.call_props) {
    if (auto r = DecodeCallProp(field, &out->props)) return r;
  }
  if (auto r = DecodeProps(layout.set, RejectReason::kInvalidSet, /*null_is_missing=*/true,
                           &out->set, &out->ignored_values)) {
    return r;
  }
  if (auto r = DecodeUnset(layout.unset, &out->unset)) return r;
  bool has_set = layout.set.value.has_value() || layout.set_implied;
  if (!out->has_event && !has_set && !layout.unset.value) {
    return Reject(RejectReason::kNoAction, "no " + std::string(layout.event.name) + ", " +
                                               std::string(layout.set.name) + " or " +
                                               std::string(layout.unset.name));
  }
  return std::nullopt;
}

std::optional<Rejection> CheckContext(const MessageContext& ctx, const Record& record) {
  if (!ctx.key) {
    if (ctx.key_required) {
      return Reject(RejectReason::kMissingKey,
                    "the message has no key and the input topic has more than one partition");
    }
  } else if (*ctx.key != record.user_id) {
    return Reject(RejectReason::kKeyMismatch, "the message key is not the user id");
  }
  if (record.ts_ms > ctx.max_ts) {
    return Reject(RejectReason::kFutureTs,
                  "time " + std::to_string(record.ts_ms) + " is past the latest allowed " +
                      std::to_string(ctx.max_ts) + " (wall clock + max_future_skew)");
  }
  return std::nullopt;
}

// A cursor over the text of an RFC 3339 timestamp.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }

  // Consumes `c`; a letter matches in either case (RFC 3339 §5.6).
  bool Take(char c) {
    if (AtEnd() || (text_[pos_] != c && text_[pos_] != ToLower(c))) return false;
    ++pos_;
    return true;
  }

  // Consumes exactly `count` ASCII digits as a number.
  bool Digits(int count, int* out) {
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (AtEnd() || !IsDigit(text_[pos_])) return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    *out = value;
    return true;
  }

  // After '.': one or more digits; the first three are milliseconds and the
  // rest are truncated.
  bool Fraction(int* millis) {
    size_t start = pos_;
    int value = 0;
    for (; !AtEnd() && IsDigit(text_[pos_]); ++pos_) {
      if (pos_ - start < 3) value = value * 10 + (text_[pos_] - '0');
    }
    size_t digits = pos_ - start;
    for (size_t i = digits; i < 3; ++i) value *= 10;
    *millis = value;
    return digits > 0;
  }

  // `Z` or `±hh:mm`, as minutes east of UTC.
  bool Offset(int* minutes) {
    if (Take('Z')) {
      *minutes = 0;
      return true;
    }
    int sign = Take('+') ? 1 : Take('-') ? -1 : 0;
    int hours, mins;
    if (sign == 0 || !Digits(2, &hours) || !Take(':') || !Digits(2, &mins)) return false;
    if (hours > 23 || mins > 59) return false;
    *minutes = sign * (hours * 60 + mins);
    return true;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static char ToLower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// simdjson's DOM parser refuses an integer beyond 64 bits (NUMBER_ERROR);
// SEMANTICS.md §1 reads every JSON number as a double, and an integer
// user id as its decimal string. Returns `bytes` with each such integer
// (outside strings) followed by ".0", so that it parses as the double it
// stands for — or, as the value of a top-level `id_fields` member, quoted,
// so that it is that string — or nullopt when there is none (the error
// was another).
std::optional<std::string> WidenBigIntegers(std::string_view bytes,
                                            const std::vector<std::string_view>& id_fields) {
  std::string out;
  bool changed = false;
  int depth = 0;          // objects and arrays open
  std::string_view key;   // the last string at depth 1 (a key, once ':' follows)
  bool id_value = false;  // the next value at depth 1 is a user id's
  size_t copied = 0;      // bytes before this are in `out`
  size_t i = 0;
  while (i < bytes.size()) {
    char c = bytes[i];
    if (c == '"') {
      size_t start = ++i;
      while (i < bytes.size() && bytes[i] != '"') i += bytes[i] == '\\' ? 2 : 1;
      if (depth == 1) key = bytes.substr(start, std::min(i, bytes.size()) - start);
      ++i;
      id_value = false;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (c == ':' && depth == 1) {
      std::string unescaped;
      std::string_view name = key;
      if (key.find('\\') != std::string_view::npos) {
        // Compared as the parser reads it (a rare case: parsed on its own).
        simdjson::dom::parser alone;
        std::string quoted = "\"" + std::string(key) + "\"";
        std::string_view text;
        if (alone.parse(quoted).get_string().get(text) == simdjson::SUCCESS) {
          unescaped = std::string(text);
          name = unescaped;
        }
      }
      id_value = std::find(id_fields.begin(), id_fields.end(), name) != id_fields.end();
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    size_t start = i;
    bool integer = true;
    while (i < bytes.size() && (bytes[i] == '-' || bytes[i] == '+' || bytes[i] == '.' ||
                                bytes[i] == 'e' || bytes[i] == 'E' ||
                                (bytes[i] >= '0' && bytes[i] <= '9'))) {
      integer = integer && bytes[i] != '.' && bytes[i] != 'e' && bytes[i] != 'E';
      ++i;
    }
    std::string_view token = bytes.substr(start, i - start);
    bool fits = true;
    if (integer) {
      std::from_chars_result r;
      if (token[0] == '-') {
        int64_t v;
        r = std::from_chars(token.data(), token.data() + token.size(), v);
      } else {
        uint64_t v;
        r = std::from_chars(token.data(), token.data() + token.size(), v);
      }
      fits = r.ec != std::errc::result_out_of_range;
    }
    if (!fits) {
      out.append(bytes.substr(copied, start - copied));
      if (depth == 1 && id_value) {
        out.append("\"").append(token).append("\"");
      } else {
        out.append(token).append(".0");
      }
      copied = i;
      changed = true;
    }
    id_value = false;
  }
  if (!changed) return std::nullopt;
  out.append(bytes.substr(copied));
  return out;
}

}  // namespace

const char* ReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kTooLarge: return "too_large";
    case RejectReason::kInvalidJson: return "invalid_json";
    case RejectReason::kNotObject: return "not_object";
    case RejectReason::kDuplicateKey: return "duplicate_key";
    case RejectReason::kMissingUserId: return "missing_user_id";
    case RejectReason::kInvalidUserId: return "invalid_user_id";
    case RejectReason::kMissingTs: return "missing_ts";
    case RejectReason::kInvalidTs: return "invalid_ts";
    case RejectReason::kInvalidEvent: return "invalid_event";
    case RejectReason::kInvalidProps: return "invalid_props";
    case RejectReason::kInvalidSet: return "invalid_set";
    case RejectReason::kInvalidUnset: return "invalid_unset";
    case RejectReason::kNoAction: return "no_action";
    case RejectReason::kInvalidType: return "invalid_type";
    case RejectReason::kKeyMismatch: return "key_mismatch";
    case RejectReason::kMissingKey: return "missing_key";
    case RejectReason::kFutureTs: return "future_ts";
    case RejectReason::kUnsupportedType: return "unsupported_type";
  }
  return "unknown";
}

std::optional<int64_t> ParseRfc3339Ms(std::string_view text) {
  Scanner in(text);
  int year, month, day, hour, minute, second;
  if (!(in.Digits(4, &year) && in.Take('-') && in.Digits(2, &month) && in.Take('-') &&
        in.Digits(2, &day) && in.Take('T') && in.Digits(2, &hour) && in.Take(':') &&
        in.Digits(2, &minute) && in.Take(':') && in.Digits(2, &second))) {
    return std::nullopt;
  }
  int millis = 0;
  if (in.Take('.') && !in.Fraction(&millis)) return std::nullopt;
  int offset_minutes;
  if (!in.Offset(&offset_minutes) || !in.AtEnd()) return std::nullopt;

  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  // Leap seconds (:60) are refused: epoch milliseconds cannot represent them.
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t minutes = (days * 24 + hour) * 60 + minute - offset_minutes;
  int64_t ms = (minutes * 60 + second) * 1000 + millis;
  if (ms < 0 || ms > kMaxTimestampMs) return std::nullopt;
  return ms;
}

struct RecordDecoder::Impl {
  explicit Impl(DecoderOptions opts) : options(std::move(opts)) {}

  std::optional<Rejection> Decode(std::string_view bytes, const MessageContext& ctx, Record* out);

  const DecoderOptions options;
  // Reused across records: it keeps its padded copy of the input and its tape,
  // so decoding allocates only when a record is larger than any before.
  simdjson::dom::parser parser;
  std::vector<std::string_view> keys;  // scratch for FindDuplicateKey
};

std::optional<Rejection> RecordDecoder::Impl::Decode(std::string_view bytes,
                                                     const MessageContext& ctx, Record* out) {
  out->Clear();
  if (bytes.size() > options.max_record_bytes) {
    return Reject(RejectReason::kTooLarge, "the record is " + std::to_string(bytes.size()) +
                                               " bytes, over " +
                                               std::to_string(options.max_record_bytes));
  }
  // Checked here: simdjson would be handed a possibly null pointer to copy.
  if (bytes.empty()) return Reject(RejectReason::kInvalidJson, "not JSON: the message is empty");
  element root;
  // realloc_if_needed: simdjson copies the bytes into its reusable padded buffer.
  auto error = parser.parse(bytes.data(), bytes.size(), /*realloc_if_needed=*/true).get(root);
  std::optional<std::string> widened;
  if (error == simdjson::NUMBER_ERROR) {
    // Perhaps an integer beyond 64 bits: parsed again with it widened.
    std::vector<std::string_view> ids;
    if (options.format == InputFormat::kSegment) {
      ids = {"userId", "anonymousId"};
    } else {
      ids = {options.fields.user_id};
    }
    widened = WidenBigIntegers(bytes, ids);
    if (widened) {
      error = parser.parse(widened->data(), widened->size(), /*realloc_if_needed=*/true).get(root);
    }
  }
  if (error != simdjson::SUCCESS) {
    return Reject(RejectReason::kInvalidJson,
                  std::string("not JSON: ") + simdjson::error_message(error));
  }
  object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return Reject(RejectReason::kNotObject,
                  std::string("the record is ") + TypeName(root) + ", not an object");
  }
  if (auto dup = FindDuplicateKey(root, &keys)) {
    return Reject(RejectReason::kDuplicateKey, "duplicate key " + Quote(*dup));
  }
  Layout layout;
  if (options.format == InputFormat::kSegment) {
    if (auto r = SegmentLayout(obj, &layout)) return r;
  } else {
    layout = SegdLayout(obj, options.fields);
  }
  if (auto r = DecodeLayout(layout, out)) return r;
  return CheckContext(ctx, *out);
}

RecordDecoder::RecordDecoder(DecoderOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RecordDecoder::~RecordDecoder() = default;

std::optional<Rejection> RecordDecoder::Decode(std::string_view bytes, const MessageContext& ctx,
                                               Record* out) {
  return impl_->Decode(bytes, ctx, out);
}

}  // namespace segd
