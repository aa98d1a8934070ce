// Rule files (SEMANTICS.md §3): YAML with `timezone`, `lists` and `segments`.
//
// Every scalar is read as written: ids and list entries stay strings ("0123"
// stays "0123"). Errors carry the file's line and column (1-based) and a
// reason; a file with one bad entry is refused whole.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "rules/ast.h"

namespace segd {

struct SourcePos {
  int line = 0;    // 1-based line in the rule file
  int column = 0;  // 1-based column
};

struct SegmentDef {
  std::string id;
  std::string name;
  std::string rule;
  bool emit_initial = false;
  SourcePos rule_pos;  // where the rule's YAML scalar starts (its quote or | / >)
  // Where the rule text lies in the file, for MapRulePos: piece i starts at
  // byte `offset` of `rule` and at `pos` in the file; offsets increase. One
  // piece per source line of the scalar (YAML folds and strips lines).
  struct RulePiece {
    size_t offset = 0;
    SourcePos pos;
  };
  std::vector<RulePiece> rule_pieces;
};

struct RuleFile {
  std::string timezone = "UTC";
  SourcePos timezone_pos;  // where the timezone value is (line 0 when not given)
  std::map<std::string, std::vector<std::string>> lists;
  std::vector<SegmentDef> segments;  // in definition order
};

struct RuleError {
  SourcePos pos;
  std::string reason;
  std::string ToString() const;  // "line L, column C: reason"
};

// Parses the YAML text of a rule file: structure, keys, ids. The rules
// themselves are checked by the rule compiler.
Result<RuleFile> ParseRuleFile(std::string_view yaml, std::vector<RuleError>* errors);

// The position in the rule file of position `p` of `def.rule` (as the rule
// parser and checker report it: 1-based line, byte column). Exact for plain
// and quoted scalars without escapes and for literal (|) and folded (>)
// blocks; after an escape in a quoted scalar the column is approximate.
SourcePos MapRulePos(const SegmentDef& def, rules::Pos p);

// Reads and parses the file at `path`.
Result<RuleFile> LoadRuleFile(const std::string& path, std::vector<RuleError>* errors);

// True when `id` matches [A-Za-z0-9_-]{1,64}.
bool IsValidSegmentId(std::string_view id);

}  // namespace segd
