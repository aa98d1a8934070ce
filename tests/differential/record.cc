#include "record.h"

#include "calendar.h"
#include "json_value.h"

namespace segd_ref {
namespace {

constexpr size_t kMaxUserIdBytes = 256;
constexpr size_t kMaxEventBytes = 128;

// Reads `count` digits at text[*pos]; false if any is not a digit.
bool Digits(std::string_view text, size_t* pos, int count, int* out) {
  if (*pos + count > text.size()) return false;
  *out = 0;
  for (int k = 0; k < count; ++k) {
    char c = text[*pos + k];
    if (c < '0' || c > '9') return false;
    *out = *out * 10 + (c - '0');
  }
  *pos += count;
  return true;
}

bool Char(std::string_view text, size_t* pos, char a, char b = 0) {
  if (*pos >= text.size() || (text[*pos] != a && (b == 0 || text[*pos] != b))) return false;
  ++*pos;
  return true;
}

std::optional<Scalar> ToScalar(const JsonValue& v) {
  switch (v.type) {
    case JsonValue::Type::kNumber:
      return Scalar::Number(v.number);
    case JsonValue::Type::kString:
      return Scalar::String(v.text);
    case JsonValue::Type::kBool:
      return Scalar::Bool(v.boolean);
    default:
      return std::nullopt;
  }
}

bool IsNested(const JsonValue& v) {
  return v.type == JsonValue::Type::kObject || v.type == JsonValue::Type::kArray;
}

std::string ReadUserId(const JsonValue* v, std::string* out) {
  if (v == nullptr || v->type == JsonValue::Type::kNull) return "missing_user";
  if (v->type == JsonValue::Type::kString) {
    *out = v->text;
  } else if (v->IsIntegerToken()) {
    *out = v->text == "-0" ? "0" : v->text;
  } else {
    return "bad_user";
  }
  if (out->empty() || out->size() > kMaxUserIdBytes) return "bad_user";
  return "";
}

std::string ReadTs(const JsonValue* v, int64_t* out) {
  if (v == nullptr || v->type == JsonValue::Type::kNull) return "missing_ts";
  if (v->type == JsonValue::Type::kString) return ParseRfc3339(v->text, out) ? "" : "bad_ts";
  if (!v->IsIntegerToken() || v->text[0] == '-') return "bad_ts";
  if (v->text.size() > 15) return "bad_ts";  // kMaxTsMs has 15 digits
  *out = std::stoll(v->text);
  return *out <= kMaxTsMs ? "" : "bad_ts";
}

}  // namespace

bool InputRecord::RemovesProperty() const {
  if (has_unset && !unset.empty()) return true;
  for (const auto& [key, value] : set) {
    if (!value) return true;
  }
  return false;
}

bool ParseRfc3339(std::string_view text, int64_t* ms) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(text, &pos, 4, &year) || !Char(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Char(text, &pos, '-') || !Digits(text, &pos, 2, &day) || !Char(text, &pos, 'T', 't') ||
      !Digits(text, &pos, 2, &hour) || !Char(text, &pos, ':') || !Digits(text, &pos, 2, &minute) ||
      !Char(text, &pos, ':') || !Digits(text, &pos, 2, &second)) {
    return false;
  }
  int64_t millis = 0;
  if (Char(text, &pos, '.')) {
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (int k = digits; k < 3; ++k) millis *= 10;
  }
  int64_t offset_min = 0;
  if (!Char(text, &pos, 'Z', 'z')) {
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return false;
    int sign = text[pos++] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh) || !Char(text, &pos, ':') || !Digits(text, &pos, 2, &om)) {
      return false;
    }
    if (oh > 23 || om > 59) return false;
    offset_min = sign * (oh * 60 + om);
  }
  if (pos != text.size()) return false;
  static constexpr int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kMonthDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  int64_t days = Calendar::DaysFromCivil(year, month, day);
  int64_t result = days * kDayMs + ((hour * 60 + minute) * 60 + second) * int64_t{1000} + millis -
                   offset_min * 60'000;
  if (result < 0 || result > kMaxTsMs) return false;
  *ms = result;
  return true;
}

std::string ParseRecord(std::string_view line, InputRecord* out) {
  *out = InputRecord();
  JsonValue doc;
  std::string error;
  if (!ParseJson(line, &doc, &error)) return "not_json";
  if (doc.type != JsonValue::Type::kObject) return "not_object";
  std::string reason = ReadUserId(doc.Find("user_id"), &out->user_id);
  if (reason.empty()) reason = ReadTs(doc.Find("ts"), &out->ts);
  if (!reason.empty()) return reason;

  const JsonValue* event = doc.Find("event");
  if (event != nullptr && event->type != JsonValue::Type::kNull) {
    if (event->type != JsonValue::Type::kString || event->text.empty() ||
        event->text.size() > kMaxEventBytes) {
      return "bad_event";
    }
    out->event = event->text;
  }
  // `props` must be an object (or null) even without an event, which then
  // ignores its values (segd's decision, README "Dead letters").
  const JsonValue* props = doc.Find("props");
  if (props != nullptr && props->type != JsonValue::Type::kNull) {
    if (props->type != JsonValue::Type::kObject) return "bad_props";
    if (out->event) {
      for (const auto& [key, value] : props->members) {
        if (auto scalar = ToScalar(value)) out->props.emplace_back(key, *scalar);
      }
    }
  }
  const JsonValue* set = doc.Find("set");
  if (set != nullptr && set->type != JsonValue::Type::kNull) {
    if (set->type != JsonValue::Type::kObject) return "bad_set";
    out->has_set = true;
    for (const auto& [key, value] : set->members) {
      if (IsNested(value)) continue;
      out->set.emplace_back(key, ToScalar(value));
    }
  }
  const JsonValue* unset = doc.Find("unset");
  if (unset != nullptr && unset->type != JsonValue::Type::kNull) {
    if (unset->type != JsonValue::Type::kArray) return "bad_unset";
    out->has_unset = true;
    for (const JsonValue& key : unset->items) {
      if (key.type != JsonValue::Type::kString) return "bad_unset";
      out->unset.push_back(key.text);
    }
  }
  if (!out->event && !out->has_set && !out->has_unset) return "no_content";
  return "";
}

}  // namespace segd_ref
