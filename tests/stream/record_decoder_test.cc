// RecordDecoder and ParseRfc3339Ms against SEMANTICS.md §1.
#include "stream/record_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace segd {

// Readable failure messages for props.
void PrintTo(const Prop& prop, std::ostream* os) {
  *os << prop.name << "=";
  if (std::holds_alternative<std::monostate>(prop.value)) *os << "<unset>";
  if (auto* s = std::get_if<std::string>(&prop.value)) *os << '"' << *s << '"';
  if (auto* d = std::get_if<double>(&prop.value)) *os << *d;
  if (auto* b = std::get_if<bool>(&prop.value)) *os << (*b ? "true" : "false");
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

MATCHER_P2(PropIs, name, value, "") { return arg.name == name && arg.value == PropValue(value); }
MATCHER_P(UnsetPropIs, name, "") {
  return arg.name == name && std::holds_alternative<std::monostate>(arg.value);
}

constexpr int64_t kTs = 1763798400123;  // 2025-11-22T08:00:00.123Z

class RecordDecoderTest : public ::testing::Test {
 protected:
  // "ok", or the ReasonName of the rejection.
  std::string Reason(std::string_view json, const MessageContext& ctx = {}) {
    auto rejection = decoder_->Decode(json, ctx, &record_);
    if (!rejection) return "ok";
    detail_ = rejection->detail;
    return ReasonName(rejection->reason);
  }

  // Decodes a record that must be valid.
  const Record& Ok(std::string_view json, const MessageContext& ctx = {}) {
    auto rejection = decoder_->Decode(json, ctx, &record_);
    EXPECT_FALSE(rejection.has_value())
        << json << " -> " << ReasonName(rejection->reason) << ": " << rejection->detail;
    return record_;
  }

  void UseOptions(DecoderOptions options) {
    decoder_ = std::make_unique<RecordDecoder>(std::move(options));
  }

  void UseSegment() {
    DecoderOptions options;
    options.format = InputFormat::kSegment;
    UseOptions(options);
  }

  std::unique_ptr<RecordDecoder> decoder_ = std::make_unique<RecordDecoder>();
  Record record_;
  std::string detail_;  // of the last rejection
};

MessageContext WithKey(std::string_view key) {
  MessageContext ctx;
  ctx.key = key;
  return ctx;
}

// ---- Valid records --------------------------------------------------------

TEST_F(RecordDecoderTest, EventWithProps) {
  const Record& r = Ok(R"({"user_id":"u42","event":"coupon_claim","ts":1763798400123,)"
                       R"("props":{"coupon":"A","amount":12.5,"count":3,"vip":true,"off":false}})");
  EXPECT_EQ(r.user_id, "u42");
  EXPECT_EQ(r.ts_ms, kTs);
  EXPECT_TRUE(r.has_event);
  EXPECT_EQ(r.event, "coupon_claim");
  EXPECT_THAT(r.props, ElementsAre(PropIs("coupon", "A"), PropIs("amount", 12.5),
                                   PropIs("count", 3.0), PropIs("vip", true),
                                   PropIs("off", false)));
  EXPECT_THAT(r.set, IsEmpty());
  EXPECT_THAT(r.unset, IsEmpty());
  EXPECT_EQ(r.ignored_values, 0u);
}

TEST_F(RecordDecoderTest, NestedPropsAndNullsAreSkippedAndCounted) {
  const Record& r = Ok(R"({"user_id":"u","ts":1,"event":"e","props":)"
                       R"({"a":1,"obj":{"x":1},"arr":[1,2],"nil":null,"b":"x"}})");
  EXPECT_THAT(r.props, ElementsAre(PropIs("a", 1.0), PropIs("b", "x")));
  EXPECT_EQ(r.ignored_values, 3u);
}

TEST_F(RecordDecoderTest, NumbersOfEveryKindBecomeDoubles) {
  const Record& r = Ok(R"({"user_id":"u","ts":1,"event":"e","props":)"
                       R"({"neg":-7,"big":18446744073709551615,"exp":1e3,"zero":-0}})");
  EXPECT_THAT(r.props, ElementsAre(PropIs("neg", -7.0), PropIs("big", 18446744073709551615.0),
                                   PropIs("exp", 1000.0), PropIs("zero", 0.0)));
}

TEST_F(RecordDecoderTest, StringEscapesAreDecoded) {
  const Record& r = Ok(R"({"user_id":"u\"1","ts":1,"event":"\u6d4f\u89c8",)"
                       R"("props":{"k\\":"a\nb"}})");
  EXPECT_EQ(r.user_id, "u\"1");
  EXPECT_EQ(r.event, "浏览");
  EXPECT_THAT(r.props, ElementsAre(PropIs("k\\", "a\nb")));
}

TEST_F(RecordDecoderTest, Set) {
  const Record& r = Ok(R"({"user_id":"u42","set":{"contact_count":6,"gender":"male","age":23},)"
                       R"("ts":1763798400123})");
  EXPECT_FALSE(r.has_event);
  EXPECT_THAT(r.set, ElementsAre(PropIs("contact_count", 6.0), PropIs("gender", "male"),
                                 PropIs("age", 23.0)));
  EXPECT_THAT(r.props, IsEmpty());
}

TEST_F(RecordDecoderTest, SetNullUnsetsAndNestedValuesAreSkipped) {
  const Record& r = Ok(R"({"user_id":"u","ts":1,"set":{"a":null,"b":{"c":1},"d":[],"e":true}})");
  EXPECT_THAT(r.set, ElementsAre(UnsetPropIs("a"), PropIs("e", true)));
  EXPECT_EQ(r.ignored_values, 2u);
}

TEST_F(RecordDecoderTest, Unset) {
  const Record& r = Ok(R"({"user_id":"u42","unset":["coupon_tier","x"],"ts":1763798400999})");
  EXPECT_THAT(r.unset, ElementsAre("coupon_tier", "x"));
  EXPECT_FALSE(r.has_event);
  EXPECT_EQ(r.ts_ms, 1763798400999);
}

TEST_F(RecordDecoderTest, EventSetAndUnsetTogether) {
  const Record& r = Ok(R"({"user_id":"u","ts":5,"event":"buy","props":{"p":1},)"
                       R"("set":{"tier":"gold"},"unset":["tier"]})");
  EXPECT_EQ(r.event, "buy");
  EXPECT_THAT(r.props, ElementsAre(PropIs("p", 1.0)));
  EXPECT_THAT(r.set, ElementsAre(PropIs("tier", "gold")));
  EXPECT_THAT(r.unset, ElementsAre("tier"));
}

TEST_F(RecordDecoderTest, EmptySetAndEmptyUnsetAreActions) {
  EXPECT_THAT(Ok(R"({"user_id":"u","ts":1,"set":{}})").set, IsEmpty());
  EXPECT_THAT(Ok(R"({"user_id":"u","ts":1,"unset":[]})").unset, IsEmpty());
}

TEST_F(RecordDecoderTest, NullFieldsAreAbsent) {
  const Record& r =
      Ok(R"({"user_id":"u","ts":1,"event":"e","props":null,"set":null,"unset":null})");
  EXPECT_TRUE(r.has_event);
  EXPECT_THAT(r.props, IsEmpty());
  EXPECT_THAT(r.set, IsEmpty());
  EXPECT_THAT(r.unset, IsEmpty());
  EXPECT_FALSE(Ok(R"({"user_id":"u","ts":1,"event":null,"set":{"a":1}})").has_event);
}

TEST_F(RecordDecoderTest, PropsWithoutEventAreIgnored) {
  const Record& r = Ok(R"({"user_id":"u","ts":1,"set":{"a":1},"props":{"x":1,"y":{}}})");
  EXPECT_FALSE(r.has_event);
  EXPECT_THAT(r.props, IsEmpty());
  EXPECT_EQ(r.ignored_values, 0u);
}

TEST_F(RecordDecoderTest, IntegerUserIdIsItsDecimalString) {
  EXPECT_EQ(Ok(R"({"user_id":42,"ts":1,"event":"e"})").user_id, "42");
  EXPECT_EQ(Ok(R"({"user_id":-5,"ts":1,"event":"e"})").user_id, "-5");
  EXPECT_EQ(Ok(R"({"user_id":0,"ts":1,"event":"e"})").user_id, "0");
  EXPECT_EQ(Ok(R"({"user_id":18446744073709551615,"ts":1,"event":"e"})").user_id,
            "18446744073709551615");
  EXPECT_EQ(Ok(R"({"user_id":-9223372036854775808,"ts":1,"event":"e"})").user_id,
            "-9223372036854775808");
}

// SEMANTICS.md §1: every number is a double, and an integer user id its
// decimal string — also past 64 bits, which the JSON parser refuses (the
// record is parsed again with those integers widened).
TEST_F(RecordDecoderTest, IntegersBeyond64BitsAreDoublesAndUserIdsTheirDigits) {
  const Record& r = Ok(R"({"user_id":"u","ts":1,"event":"e","props":)"
                       R"({"big":123456789012345678901234,"neg":-98765432109876543210,)"
                       R"("s":"123456789012345678901234","nested":{"x":99999999999999999999999}}})");
  EXPECT_THAT(r.props, ElementsAre(PropIs("big", 123456789012345678901234.0),
                                   PropIs("neg", -98765432109876543210.0),
                                   PropIs("s", "123456789012345678901234")));
  EXPECT_EQ(r.ignored_values, 1u);
  const Record& set = Ok(R"({"user_id":"u","ts":1,"set":{"n":18446744073709551616}})");
  EXPECT_THAT(set.set, ElementsAre(PropIs("n", 18446744073709551616.0)));
  EXPECT_EQ(Ok(R"({"user_id":123456789012345678901,"ts":1,"event":"e"})").user_id,
            "123456789012345678901");
  EXPECT_EQ(Ok(R"({"user_id":-123456789012345678901,"ts":1,"event":"e"})",
               WithKey("-123456789012345678901"))
                .user_id,
            "-123456789012345678901");
  // A big integer elsewhere is not taken for the user id.
  EXPECT_EQ(Ok(R"({"x":{"user_id":123456789012345678901},"user_id":"u","ts":1,"event":"e"})")
                .user_id,
            "u");
  EXPECT_EQ(Ok(R"({"user\u005fid":123456789012345678901,"ts":1,"event":"e"})").user_id,
            "123456789012345678901");  // the key as the parser reads it
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":123456789012345678901,"event":"e"})"), "invalid_ts");
  EXPECT_THAT(detail_, HasSubstr("out of range"));
  UseSegment();
  EXPECT_EQ(Ok(R"({"type":"track","event":"e","userId":123456789012345678901,"timestamp":1})")
                .user_id,
            "123456789012345678901");
}

TEST_F(RecordDecoderTest, LimitsAreInclusive) {
  std::string user(256, 'u');
  std::string event(128, 'e');
  const Record& r = Ok(R"({"user_id":")" + user + R"(","ts":253402300799999,"event":")" +
                       event + R"("})");
  EXPECT_EQ(r.user_id, user);
  EXPECT_EQ(r.event, event);
  EXPECT_EQ(r.ts_ms, kMaxTimestampMs);
  EXPECT_EQ(Ok(R"({"user_id":"u","ts":0,"event":"e"})").ts_ms, 0);
}

TEST_F(RecordDecoderTest, RfcTimestamps) {
  EXPECT_EQ(Ok(R"({"user_id":"u","event":"e","ts":"2025-11-22T08:00:00.123Z"})").ts_ms, kTs);
  EXPECT_EQ(Ok(R"({"user_id":"u","event":"e","ts":"2025-11-22T16:00:00.123+08:00"})").ts_ms, kTs);
  EXPECT_EQ(Ok(R"({"user_id":"u","event":"e","ts":"2025-11-22T08:00:00.123999999Z"})").ts_ms, kTs);
  EXPECT_EQ(Ok(R"({"user_id":"u","event":"e","ts":"2025-11-22t08:00:00.123z"})").ts_ms, kTs);
  EXPECT_EQ(Ok(R"({"user_id":"u","event":"e","ts":"2025-11-22T03:30:00.123-04:30"})").ts_ms, kTs);
}

TEST_F(RecordDecoderTest, UnknownFieldsAreIgnored) {
  const Record& r = Ok(R"({"x":[1,{"a":2}],"user_id":"u","ts":1,"event":"e","y":{"z":null}})");
  EXPECT_EQ(r.event, "e");
  EXPECT_EQ(r.ignored_values, 0u);
}

TEST_F(RecordDecoderTest, WhitespaceAroundTheObjectIsFine) {
  EXPECT_EQ(Ok(" \n\t{\"user_id\":\"u\",\"ts\":1,\"event\":\"e\"}\r\n ").event, "e");
}

TEST_F(RecordDecoderTest, CustomFieldNames) {
  DecoderOptions options;
  options.fields = {"uid", "name", "time", "attrs", "profile", "remove"};
  UseOptions(options);
  const Record& r = Ok(R"({"uid":"u","name":"visit","time":7,"attrs":{"a":"b"},)"
                       R"("profile":{"c":1},"remove":["d"],"user_id":"ignored","event":1})");
  EXPECT_EQ(r.user_id, "u");
  EXPECT_EQ(r.event, "visit");
  EXPECT_EQ(r.ts_ms, 7);
  EXPECT_THAT(r.props, ElementsAre(PropIs("a", "b")));
  EXPECT_THAT(r.set, ElementsAre(PropIs("c", 1.0)));
  EXPECT_THAT(r.unset, ElementsAre("d"));
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e"})"), "missing_user_id");
  EXPECT_THAT(detail_, HasSubstr("uid"));
}

TEST_F(RecordDecoderTest, ReusedDecoderStartsEachRecordAfresh) {
  Ok(R"({"user_id":"first","ts":9,"event":"e","props":{"a":{}},"set":{"s":1},"unset":["x"]})");
  const Record& r = Ok(R"({"user_id":"u","ts":1,"set":{}})");
  EXPECT_EQ(r.user_id, "u");
  EXPECT_FALSE(r.has_event);
  EXPECT_EQ(r.event, "");
  EXPECT_THAT(r.props, IsEmpty());
  EXPECT_THAT(r.set, IsEmpty());
  EXPECT_THAT(r.unset, IsEmpty());
  EXPECT_EQ(r.ignored_values, 0u);
}

// ---- Segment-spec preset --------------------------------------------------

TEST_F(RecordDecoderTest, SegmentTrack) {
  UseSegment();
  const Record& r = Ok(R"({"type":"track","userId":"u1","anonymousId":"a1",)"
                       R"("event":"Order Completed","properties":{"revenue":9.5},)"
                       R"("timestamp":"2025-11-22T08:00:00.123Z",)"
                       R"("traits":{"ignored":1},"context":{"ip":"1.2.3.4"}})");
  EXPECT_EQ(r.user_id, "u1");
  EXPECT_EQ(r.event, "Order Completed");
  EXPECT_EQ(r.ts_ms, kTs);
  EXPECT_THAT(r.props, ElementsAre(PropIs("revenue", 9.5)));
  EXPECT_THAT(r.set, IsEmpty());
}

TEST_F(RecordDecoderTest, SegmentIdentify) {
  UseSegment();
  const Record& r = Ok(R"({"type":"identify","userId":"u1","traits":{"plan":"pro","seats":3},)"
                       R"("timestamp":1,"event":"not read"})");
  EXPECT_FALSE(r.has_event);
  EXPECT_THAT(r.set, ElementsAre(PropIs("plan", "pro"), PropIs("seats", 3.0)));
  EXPECT_THAT(Ok(R"({"type":"identify","userId":"u1","timestamp":1})").set, IsEmpty());
  EXPECT_THAT(Ok(R"({"type":"identify","userId":"u1","timestamp":1,"traits":null})").set,
              IsEmpty());
}

TEST_F(RecordDecoderTest, SegmentAnonymousIdFallback) {
  UseSegment();
  EXPECT_EQ(Ok(R"({"type":"track","anonymousId":"a1","event":"e","timestamp":1})").user_id, "a1");
  EXPECT_EQ(Ok(R"({"type":"track","userId":null,"anonymousId":"a1","event":"e","timestamp":1})")
                .user_id,
            "a1");
  EXPECT_EQ(Ok(R"({"type":"track","userId":7,"event":"e","timestamp":1})").user_id, "7");
  // A userId that is present but wrong is refused, not replaced.
  EXPECT_EQ(Reason(R"({"type":"track","userId":"","anonymousId":"a1","event":"e","timestamp":1})"),
            "invalid_user_id");
  EXPECT_EQ(Reason(R"({"type":"track","event":"e","timestamp":1})"), "missing_user_id");
  EXPECT_EQ(Reason(R"({"type":"track","userId":null,"anonymousId":null,"event":"e",)"
                   R"("timestamp":1})"),
            "missing_user_id");
}

TEST_F(RecordDecoderTest, SegmentPage) {
  UseSegment();
  const Record& r = Ok(R"({"type":"page","messageId":"m-1","anonymousId":"a1",)"
                       R"("name":"Pricing","category":"Docs",)"
                       R"("properties":{"name":"old","path":"/pricing","n":2},)"
                       R"("timestamp":"2025-11-22T16:00:00.123+08:00"})");
  EXPECT_EQ(r.user_id, "a1");
  EXPECT_EQ(r.event, "Page Viewed");
  EXPECT_EQ(r.ts_ms, kTs);
  // The call's own name replaces the one in properties; category is added.
  EXPECT_THAT(r.props, ElementsAre(PropIs("name", "Pricing"), PropIs("path", "/pricing"),
                                   PropIs("n", 2.0), PropIs("category", "Docs")));
  EXPECT_THAT(r.set, IsEmpty());
  // Nothing but the call: an event without properties.
  const Record& bare = Ok(R"({"type":"page","userId":"u1","timestamp":1})");
  EXPECT_EQ(bare.event, "Page Viewed");
  EXPECT_THAT(bare.props, IsEmpty());
  // properties' own name stays when the call has none (or a null one).
  EXPECT_THAT(Ok(R"({"type":"page","userId":"u1","timestamp":1,"name":null,)"
                 R"("properties":{"name":"Home"}})")
                  .props,
              ElementsAre(PropIs("name", "Home")));
  // An `event` field means nothing on a page call.
  EXPECT_EQ(Ok(R"({"type":"page","userId":"u1","timestamp":1,"event":"x"})").event,
            "Page Viewed");
}

TEST_F(RecordDecoderTest, SegmentScreen) {
  UseSegment();
  const Record& r = Ok(R"({"type":"screen","userId":"u1","name":"Cart",)"
                       R"("properties":{"items":3,"nested":{"a":1}},"timestamp":1})");
  EXPECT_EQ(r.event, "Screen Viewed");
  EXPECT_THAT(r.props, ElementsAre(PropIs("items", 3.0), PropIs("name", "Cart")));
  EXPECT_EQ(r.ignored_values, 1u);
}

TEST_F(RecordDecoderTest, SegmentPageFieldRules) {
  UseSegment();
  EXPECT_EQ(Reason(R"({"type":"page","userId":"u","timestamp":1,"name":7})"), "invalid_props");
  EXPECT_THAT(detail_, HasSubstr("name is an integer"));
  EXPECT_EQ(Reason(R"({"type":"screen","userId":"u","timestamp":1,"category":{}})"),
            "invalid_props");
  EXPECT_EQ(Reason(R"({"type":"page","userId":"u","timestamp":1,"properties":"x"})"),
            "invalid_props");
  EXPECT_EQ(Reason(R"({"type":"page","userId":"u"})"), "missing_ts");
  EXPECT_EQ(Reason(R"({"type":"screen","timestamp":1})"), "missing_user_id");
}

TEST_F(RecordDecoderTest, SegmentFieldRules) {
  UseSegment();
  EXPECT_EQ(Reason(R"({"type":"track","userId":"u","event":"e"})"), "missing_ts");
  EXPECT_EQ(Reason(R"({"type":"track","userId":"u","event":"e","timestamp":1.5})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"type":"track","userId":"u","timestamp":1})"), "invalid_event");
  EXPECT_EQ(Reason(R"({"type":"track","userId":"u","event":null,"timestamp":1})"),
            "invalid_event");
  EXPECT_EQ(Reason(R"({"type":"track","userId":"u","event":"e","properties":[],"timestamp":1})"),
            "invalid_props");
  EXPECT_EQ(Reason(R"({"type":"identify","userId":"u","traits":"x","timestamp":1})"),
            "invalid_set");
  // The segd field names mean nothing in this preset.
  EXPECT_EQ(Reason(R"({"type":"track","user_id":"u","event":"e","ts":1})"), "missing_user_id");
}

// ---- Rejections, one reason at a time -------------------------------------

TEST_F(RecordDecoderTest, TooLarge) {
  DecoderOptions options;
  options.max_record_bytes = 40;
  UseOptions(options);
  std::string record = R"({"user_id":"u","ts":1,"event":"evt_123"})";  // 40 bytes
  ASSERT_EQ(record.size(), 40u);
  EXPECT_EQ(Reason(record), "ok");
  EXPECT_EQ(Reason(record + " "), "too_large");
  EXPECT_EQ(Reason(std::string(41, 'x')), "too_large");  // checked before the JSON
  EXPECT_THAT(detail_, HasSubstr("41"));
}

TEST_F(RecordDecoderTest, InvalidJson) {
  EXPECT_EQ(Reason(""), "invalid_json");
  EXPECT_EQ(Reason("   "), "invalid_json");
  EXPECT_EQ(Reason("not json"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e")"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e",})"), "invalid_json");
  EXPECT_EQ(Reason(R"({'user_id':'u'})"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":01,"event":"e"})"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":NaN,"event":"e"})"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"\ud800","ts":1,"event":"e"})"), "invalid_json");
}

TEST_F(RecordDecoderTest, InvalidUtf8IsInvalidJson) {
  EXPECT_EQ(Reason("{\"user_id\":\"u\xff\",\"ts\":1,\"event\":\"e\"}"), "invalid_json");
  EXPECT_EQ(Reason("{\"user_id\":\"u\",\"ts\":1,\"event\":\"\xc3\"}"), "invalid_json");
  // Overlong encoding of '/' and an encoded surrogate.
  EXPECT_EQ(Reason("{\"user_id\":\"\xc0\xaf\",\"ts\":1,\"event\":\"e\"}"), "invalid_json");
  EXPECT_EQ(Reason("{\"user_id\":\"\xed\xa0\x80\",\"ts\":1,\"event\":\"e\"}"), "invalid_json");
  // Invalid bytes in an ignored field count too.
  EXPECT_EQ(Reason("{\"user_id\":\"u\",\"ts\":1,\"event\":\"e\",\"x\":\"\xfe\"}"), "invalid_json");
}

TEST_F(RecordDecoderTest, TrailingContentIsInvalidJson) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e"} x)"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e"}{})"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e"}})"), "invalid_json");
  EXPECT_EQ(Reason(std::string(R"({"user_id":"u","ts":1,"event":"e"})") + '\0'), "invalid_json");
}

TEST_F(RecordDecoderTest, LimitsOfTheJsonParserAreInvalidJson) {
  // simdjson refuses nesting deeper than 1024, and numbers it cannot read
  // (a float beyond the double range) even after integers are widened.
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","x":1e999})"), "invalid_json");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","x":01234567890123456789012})"),
            "invalid_json");
  std::string deep = R"({"user_id":"u","ts":1,"event":"e","x":)" + std::string(1100, '[') +
                     std::string(1100, ']') + "}";
  EXPECT_EQ(Reason(deep), "invalid_json");
}

TEST_F(RecordDecoderTest, NotObject) {
  EXPECT_EQ(Reason("[]"), "not_object");
  EXPECT_EQ(Reason(R"([{"user_id":"u","ts":1,"event":"e"}])"), "not_object");
  EXPECT_EQ(Reason(R"("x")"), "not_object");
  EXPECT_EQ(Reason("1"), "not_object");
  EXPECT_EQ(Reason("null"), "not_object");
  EXPECT_THAT(detail_, HasSubstr("null"));
}

TEST_F(RecordDecoderTest, DuplicateKey) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","user_id":"v"})"), "duplicate_key");
  EXPECT_THAT(detail_, HasSubstr("\"user_id\""));
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":{"a":1,"a":2}})"),
            "duplicate_key");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"set":{"a":1,"a":null}})"), "duplicate_key");
  // In values the decoder skips, and in unknown fields.
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":{"n":{"b":1,"b":1}}})"),
            "duplicate_key");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","x":[0,[{"k":1,"k":2}]]})"),
            "duplicate_key");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","x":1,"x":1})"), "duplicate_key");
  // Keys are compared after unescaping.
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":{"a":1,"\u0061":2}})"),
            "duplicate_key");
}

TEST_F(RecordDecoderTest, DuplicateKeyInLargeObjects) {
  std::string props;
  for (int i = 0; i < 40; ++i) props += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string head = R"({"user_id":"u","ts":1,"event":"e","props":{)";
  EXPECT_EQ(Ok(head + props + R"("last":1}})").props.size(), 41u);
  EXPECT_EQ(Reason(head + props + R"("k17":1}})"), "duplicate_key");
  EXPECT_THAT(detail_, HasSubstr("k17"));
}

TEST_F(RecordDecoderTest, MissingUserId) {
  EXPECT_EQ(Reason(R"({"ts":1,"event":"e"})"), "missing_user_id");
  EXPECT_EQ(Reason(R"({"user_id":null,"ts":1,"event":"e"})"), "missing_user_id");
  EXPECT_EQ(Reason(R"({"userId":"u","ts":1,"event":"e"})"), "missing_user_id");
}

TEST_F(RecordDecoderTest, InvalidUserId) {
  EXPECT_EQ(Reason(R"({"user_id":"","ts":1,"event":"e"})"), "invalid_user_id");
  EXPECT_THAT(detail_, HasSubstr("empty"));
  EXPECT_EQ(Reason(R"({"user_id":")" + std::string(257, 'u') + R"(","ts":1,"event":"e"})"),
            "invalid_user_id");
  EXPECT_THAT(detail_, HasSubstr("257"));
  EXPECT_EQ(Reason(R"({"user_id":1e3,"ts":1,"event":"e"})"), "invalid_user_id");
  EXPECT_EQ(Reason(R"({"user_id":42.0,"ts":1,"event":"e"})"), "invalid_user_id");
  EXPECT_EQ(Reason(R"({"user_id":true,"ts":1,"event":"e"})"), "invalid_user_id");
  EXPECT_EQ(Reason(R"({"user_id":{},"ts":1,"event":"e"})"), "invalid_user_id");
  EXPECT_EQ(Reason(R"({"user_id":["u"],"ts":1,"event":"e"})"), "invalid_user_id");
}

TEST_F(RecordDecoderTest, MissingTs) {
  EXPECT_EQ(Reason(R"({"user_id":"u","event":"e"})"), "missing_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":null,"event":"e"})"), "missing_ts");
}

TEST_F(RecordDecoderTest, FloatTsIsInvalid) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1.5,"event":"e"})"), "invalid_ts");
  EXPECT_THAT(detail_, HasSubstr("ts 1.5 is a float"));
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1.0,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1e12,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1763798400123.0,"event":"e"})"), "invalid_ts");
}

TEST_F(RecordDecoderTest, OutOfRangeTsIsInvalid) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":-1,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":253402300800000,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":-9223372036854775808,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":18446744073709551615,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"1969-12-31T23:59:59.999Z","event":"e"})"),
            "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"9999-12-31T23:59:59.999-00:01","event":"e"})"),
            "invalid_ts");
}

TEST_F(RecordDecoderTest, BadTsStringsAndTypesAreInvalid) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"2025-11-22T08:00:60Z","event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"2025-11-22T08:00:00","event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"2025-11-22T08:00:00.123","event":"e"})"),
            "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"2025-11-22 08:00:00Z","event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"1763798400123","event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"","event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":true,"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":[1],"event":"e"})"), "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":{},"event":"e"})"), "invalid_ts");
}

TEST_F(RecordDecoderTest, InvalidEvent) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":""})"), "invalid_event");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":")" + std::string(129, 'e') + R"("})"),
            "invalid_event");
  EXPECT_THAT(detail_, HasSubstr("129"));
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":1})"), "invalid_event");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":false})"), "invalid_event");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":["e"]})"), "invalid_event");
}

TEST_F(RecordDecoderTest, InvalidProps) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":1})"), "invalid_props");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":"a=1"})"), "invalid_props");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":[{"a":1}]})"), "invalid_props");
  // Checked even when there is no event to attach them to.
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"set":{},"props":true})"), "invalid_props");
}

TEST_F(RecordDecoderTest, InvalidSet) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"set":[]})"), "invalid_set");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"set":"a"})"), "invalid_set");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","set":0})"), "invalid_set");
}

TEST_F(RecordDecoderTest, InvalidUnset) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"unset":"a"})"), "invalid_unset");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"unset":{"a":1}})"), "invalid_unset");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"unset":[1]})"), "invalid_unset");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"unset":["a",null]})"), "invalid_unset");
  EXPECT_THAT(detail_, HasSubstr("element 1 is null"));
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"unset":[["a"]]})"), "invalid_unset");
}

TEST_F(RecordDecoderTest, NoAction) {
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1})"), "no_action");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":null,"set":null,"unset":null})"),
            "no_action");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"props":{"a":1}})"), "no_action");
}

TEST_F(RecordDecoderTest, InvalidType) {
  UseSegment();
  EXPECT_EQ(Reason(R"({"userId":"u","event":"e","timestamp":1})"), "invalid_type");
  EXPECT_THAT(detail_, HasSubstr("type is missing"));
  EXPECT_EQ(Reason(R"({"type":"view","userId":"u","timestamp":1})"), "invalid_type");
  EXPECT_THAT(detail_, HasSubstr("\"view\""));
  EXPECT_EQ(Reason(R"({"type":"Track","userId":"u","event":"e","timestamp":1})"),
            "invalid_type");
  EXPECT_EQ(Reason(R"({"type":1,"userId":"u","timestamp":1})"), "invalid_type");
  EXPECT_EQ(Reason(R"({"type":null,"userId":"u","timestamp":1})"), "invalid_type");
}

TEST_F(RecordDecoderTest, UnsupportedType) {
  UseSegment();
  EXPECT_EQ(Reason(R"({"type":"group","userId":"u","groupId":"g","traits":{"a":1},)"
                   R"("timestamp":1})"),
            "unsupported_type");
  EXPECT_THAT(detail_, HasSubstr("group calls are not read"));
  EXPECT_EQ(Reason(R"({"type":"alias","userId":"u","previousId":"a","timestamp":1})"),
            "unsupported_type");
  EXPECT_THAT(detail_, HasSubstr("alias calls are not read"));
  // Refused for the type before anything else is looked at.
  EXPECT_EQ(Reason(R"({"type":"alias"})"), "unsupported_type");
  // The segd format has no `type`: there it is just an unknown field.
  UseOptions({});
  EXPECT_EQ(Reason(R"({"type":"group","user_id":"u","ts":1,"event":"e"})"), "ok");
}

TEST_F(RecordDecoderTest, KeyMismatch) {
  const std::string record = R"({"user_id":"u1","ts":1,"event":"e"})";
  EXPECT_EQ(Reason(record, WithKey("u1")), "ok");
  EXPECT_EQ(Reason(record, WithKey("u2")), "key_mismatch");
  EXPECT_EQ(Reason(record, WithKey("")), "key_mismatch");
  EXPECT_EQ(Reason(record, WithKey("u1 ")), "key_mismatch");
  EXPECT_EQ(Reason(R"({"user_id":42,"ts":1,"event":"e"})", WithKey("42")), "ok");
  EXPECT_EQ(Reason(R"({"user_id":42,"ts":1,"event":"e"})", WithKey("042")), "key_mismatch");
  EXPECT_EQ(Reason(R"({"user_id":"\u6d4f","ts":1,"event":"e"})", WithKey("浏")), "ok");
}

TEST_F(RecordDecoderTest, MissingKey) {
  const std::string record = R"({"user_id":"u1","ts":1,"event":"e"})";
  MessageContext ctx;
  ctx.key_required = true;
  EXPECT_EQ(Reason(record, ctx), "missing_key");
  ctx.key = "u1";
  EXPECT_EQ(Reason(record, ctx), "ok");
  ctx.key = "u2";
  EXPECT_EQ(Reason(record, ctx), "key_mismatch");
  EXPECT_EQ(Reason(record, MessageContext{}), "ok");  // single-partition topic
}

TEST_F(RecordDecoderTest, FutureTs) {
  MessageContext ctx;
  ctx.max_ts = 1000;
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1000,"event":"e"})", ctx), "ok");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1001,"event":"e"})", ctx), "future_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":"1970-01-01T00:00:01.001Z","event":"e"})", ctx),
            "future_ts");
}

TEST_F(RecordDecoderTest, FirstFailingCheckNamesTheReason) {
  MessageContext ctx = WithKey("other");
  ctx.max_ts = 0;
  EXPECT_EQ(Reason(R"({"user_id":1.5,"ts":1.5,"event":1,"props":1,"set":1,"unset":1})", ctx),
            "invalid_user_id");
  EXPECT_EQ(Reason(R"({"ts":1.5,"user_id":1.5,"x":1,"x":2})", ctx), "duplicate_key");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1.5,"event":1,"props":1,"set":1,"unset":1})", ctx),
            "invalid_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":1,"props":1,"set":1,"unset":1})", ctx),
            "invalid_event");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","props":1,"set":1,"unset":1})", ctx),
            "invalid_props");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","set":1,"unset":1})", ctx),
            "invalid_set");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e","unset":1})", ctx), "invalid_unset");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1})", ctx), "no_action");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":1,"event":"e"})", ctx), "key_mismatch");
  EXPECT_EQ(Reason(R"({"user_id":"other","ts":1,"event":"e"})", ctx), "future_ts");
  EXPECT_EQ(Reason(R"({"user_id":"u","ts":-1})"), "invalid_ts");

  UseSegment();
  EXPECT_EQ(Reason(R"({"type":"page","userId":1.5,"timestamp":1.5,"a":1,"a":1})"),
            "duplicate_key");
  EXPECT_EQ(Reason(R"({"type":"group","userId":1.5,"timestamp":1.5})"), "unsupported_type");
  EXPECT_EQ(Reason(R"({"type":"view","userId":1.5,"timestamp":1.5})"), "invalid_type");
  EXPECT_EQ(Reason(R"({"type":"page","userId":1.5,"timestamp":1.5,"name":1})"),
            "invalid_user_id");
  EXPECT_EQ(Reason(R"({"type":"page","userId":"u","timestamp":1,"name":1})", ctx),
            "invalid_props");
  EXPECT_EQ(Reason(R"({"type":"page","userId":"u","timestamp":1})", ctx), "key_mismatch");
}

TEST_F(RecordDecoderTest, EveryRejectionHasADetail) {
  for (std::string_view json : {"", "[]", R"({"a":1,"a":2})", R"({"ts":1})",
                                R"({"user_id":"u","ts":1})", R"({"user_id":"u","ts":"x"})"}) {
    EXPECT_NE(Reason(json), "ok") << json;
    EXPECT_FALSE(detail_.empty()) << json;
    detail_.clear();
  }
}

TEST(ReasonNameTest, StableNames) {
  const char* expected[kRejectReasonCount] = {
      "too_large",     "invalid_json",  "not_object",   "duplicate_key", "missing_user_id",
      "invalid_user_id", "missing_ts",  "invalid_ts",   "invalid_event", "invalid_props",
      "invalid_set",   "invalid_unset", "no_action",    "invalid_type",  "key_mismatch",
      "missing_key",   "future_ts",     "unsupported_type",
  };
  for (int i = 0; i < kRejectReasonCount; ++i) {
    EXPECT_STREQ(ReasonName(static_cast<RejectReason>(i)), expected[i]);
  }
  EXPECT_STREQ(ReasonName(RejectReason::kFutureTs), "future_ts");
  EXPECT_STREQ(ReasonName(RejectReason::kUnsupportedType), "unsupported_type");
}

// ---- ParseRfc3339Ms -------------------------------------------------------

TEST(ParseRfc3339MsTest, Epoch) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T08:00:00+08:00"), 0);
  EXPECT_EQ(ParseRfc3339Ms("1969-12-31T19:00:00-05:00"), 0);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.001-00:00"), 1);
  EXPECT_EQ(ParseRfc3339Ms("1969-12-31T23:59:59.999Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00+00:01"), std::nullopt);
}

TEST(ParseRfc3339MsTest, Maximum) {
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999Z"), kMaxTimestampMs);
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999999999Z"), kMaxTimestampMs);
  EXPECT_EQ(ParseRfc3339Ms("10000-01-01T00:00:00Z"), std::nullopt);
  // One millisecond more, only reachable through the offset.
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999-00:01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999+00:01"), kMaxTimestampMs - 60'000);
}

TEST(ParseRfc3339MsTest, Example) {
  EXPECT_EQ(ParseRfc3339Ms("2026-11-22T08:00:00.123+08:00"), 1795305600123);
  EXPECT_EQ(ParseRfc3339Ms("2000-02-29T12:34:56Z"), 951827696000);
}

TEST(ParseRfc3339MsTest, LeapYears) {
  EXPECT_EQ(ParseRfc3339Ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(ParseRfc3339Ms("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_NE(ParseRfc3339Ms("2000-02-29T00:00:00Z"), std::nullopt);  // divisible by 400
  EXPECT_EQ(ParseRfc3339Ms("2100-02-29T00:00:00Z"), std::nullopt);  // by 100 only
  EXPECT_EQ(ParseRfc3339Ms("2024-02-30T00:00:00Z"), std::nullopt);
}

TEST(ParseRfc3339MsTest, CalendarAndClockRanges) {
  EXPECT_EQ(ParseRfc3339Ms("2024-00-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-13-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-01-00T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-01-32T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-04-31T00:00:00Z"), std::nullopt);
  EXPECT_NE(ParseRfc3339Ms("2024-12-31T23:59:59Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-01-01T24:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2024-01-01T00:60:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2016-12-31T23:59:60Z"), std::nullopt);  // a real leap second
}

TEST(ParseRfc3339MsTest, FractionsAreTruncated) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.1Z"), 100);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.12Z"), 120);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.123Z"), 123);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.1239Z"), 123);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.999999Z"), 999);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.000000001Z"), 0);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00.Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00,5Z"), std::nullopt);
}

TEST(ParseRfc3339MsTest, Offsets) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00+23:59"), 60'000);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00-23:59"), 86'340'000);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00+24:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00+08:60"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00+0800"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00+08"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-02T00:00:00 Z"), std::nullopt);
}

TEST(ParseRfc3339MsTest, LowerCaseSeparators) {
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01t00:00:01z"), 1000);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01t00:00:01Z"), 1000);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:01z"), 1000);
}

TEST(ParseRfc3339MsTest, Syntax) {
  EXPECT_EQ(ParseRfc3339Ms(""), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01 00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-1-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T0:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("197a-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms(" 1970-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00ZZ"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00Z "), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01X00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("+1970-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms(std::string_view("1970-01-01T00:00:00Z\0", 21)), std::nullopt);
}

}  // namespace
}  // namespace segd
