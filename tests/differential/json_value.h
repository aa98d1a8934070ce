// A small strict JSON reader and writer for the differential test's reference.
//
// Independent of the project's own JSON handling on purpose: the reference
// must not share code with segd. Strict means RFC 8259 plus two rules of
// SEMANTICS.md §1: an object with a duplicate key is invalid, and text must
// be valid UTF-8 (lone surrogates in \u escapes included).
#ifndef SEGD_TESTS_DIFFERENTIAL_JSON_VALUE_H_
#define SEGD_TESTS_DIFFERENTIAL_JSON_VALUE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segd_ref {

struct JsonMember;

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;  // kNumber: strtod of the token
  // kString: the unescaped UTF-8 value; kNumber: the token exactly as written.
  std::string text;
  std::vector<JsonValue> items;     // kArray
  std::vector<JsonMember> members;  // kObject, in input order

  // The member named `key`, or nullptr. Only for kObject.
  const JsonValue* Find(std::string_view key) const;
  // True for a number token without fraction or exponent.
  bool IsIntegerToken() const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Parses `text` as exactly one JSON value (surrounding whitespace allowed).
// Returns false and sets *error on malformed input or a duplicate key.
bool ParseJson(std::string_view text, JsonValue* out, std::string* error);

// Parses a JSON string literal (with its quotes) starting at text[*pos];
// advances *pos past it. Used by the rule parser for string literals.
bool ParseJsonString(std::string_view text, size_t* pos, std::string* out);

// `s` as a JSON string literal: `"` and `\` escaped, control characters as
// \b \f \n \r \t or \u00XX; everything else (non-ASCII UTF-8, `/`, DEL) as is.
std::string JsonQuote(std::string_view s);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_JSON_VALUE_H_
