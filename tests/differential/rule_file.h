// Rule files (SEMANTICS §3) read by a tiny hand-written YAML reader.
//
// The reader knows the subset rule files use: block mappings and sequences
// (including "- key: value" items), flow sequences of scalars on one line
// ([a, "b", '0123']), plain scalars (with continuation lines and " #"
// comments), single- and double-quoted scalars, and block scalars (|, |-, >,
// >-). Every scalar is kept as written (a string). Anything else is an error.
#ifndef SEGD_TESTS_DIFFERENTIAL_RULE_FILE_H_
#define SEGD_TESTS_DIFFERENTIAL_RULE_FILE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segd_ref {

struct SegmentDef {
  std::string id;
  std::string name;
  std::string rule;
};

struct RuleSet {
  std::string timezone = "UTC";
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;  // in file order
  std::vector<SegmentDef> segments;                                     // definition order
};

// Reads a rule file. Returns false with *error ("line N: reason") when the
// text is outside the subset or does not have the rule file's shape. Rules are
// not parsed here (see Reference::Create).
bool ParseRuleFile(std::string_view text, RuleSet* out, std::string* error);

// Writes `rules` in the same format, every scalar quoted.
std::string WriteRuleFile(const RuleSet& rules);

}  // namespace segd_ref

#endif  // SEGD_TESTS_DIFFERENTIAL_RULE_FILE_H_
