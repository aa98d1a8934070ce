#include "rules/rule_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace segd {

namespace {

SourcePos PosOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  // An empty document has no mark (-1): its errors point at the start.
  return {std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Where each source line of the scalar at `mark` (whose value is `rule`)
// lies in the rule text. yaml-cpp gives only the scalar's start, so the
// lines after it are matched against the value: YAML only drops the
// indentation and turns line breaks into spaces or newlines (folding), so
// every stripped source line appears in the value, in order, separated by
// blanks. The first line that does not (an escape, the next key) ends it.
std::vector<SegmentDef::RulePiece> RulePieces(std::string_view yaml, const YAML::Mark& mark,
                                              const std::string& rule) {
  std::vector<SegmentDef::RulePiece> pieces;
  if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= yaml.size()) return pieces;
  const size_t start = static_cast<size_t>(mark.pos);
  const char style = yaml[start];
  size_t eol = std::min(yaml.find('\n', start), yaml.size());
  size_t used = 0;  // bytes of `rule` placed so far
  char quote = 0;
  if (style != '|' && style != '>') {
    // A plain or quoted scalar starts on the line of its key.
    size_t first = start;
    if (style == '"' || style == '\'') {
      quote = style;
      ++first;
    }
    pieces.push_back({0, {mark.line + 1, mark.column + 1 + static_cast<int>(first - start)}});
    std::string_view raw = yaml.substr(first, eol - first);
    while (used < raw.size() && used < rule.size() && raw[used] == rule[used]) ++used;
  }
  size_t rule_end = rule.size();
  while (rule_end > 0 && IsBlank(rule[rule_end - 1])) --rule_end;
  int line = mark.line + 2;
  for (size_t at = eol + 1; used < rule_end && at < yaml.size(); at = eol + 1, ++line) {
    eol = std::min(yaml.find('\n', at), yaml.size());
    std::string_view raw = yaml.substr(at, eol - at);
    size_t indent = raw.find_first_not_of(" \t");
    if (indent == std::string_view::npos) continue;
    std::string_view content = raw.substr(indent);
    if (quote) content = content.substr(0, content.find(quote));
    while (!content.empty() && IsBlank(content.back())) content.remove_suffix(1);
    if (content.empty()) continue;
    size_t q = used;
    while (q < rule.size() && IsBlank(rule[q])) ++q;
    if (rule.compare(q, content.size(), content) != 0) break;
    pieces.push_back({q, {line, static_cast<int>(indent) + 1}});
    used = q + content.size();
  }
  return pieces;
}

class Reader {
 public:
  Reader(std::string_view yaml, std::vector<RuleError>* errors) : yaml_(yaml), errors_(errors) {}

  void Error(const YAML::Node& at, std::string reason) {
    errors_->push_back({PosOf(at), std::move(reason)});
  }

  bool Scalar(const YAML::Node& n, const std::string& what, std::string* out) {
    if (!n.IsScalar()) {
      Error(n, what + " must be a single value");
      return false;
    }
    *out = n.Scalar();
    return true;
  }

  // A key seen before in the same map: YAML would silently keep one of
  // the two, so it is refused.
  bool Duplicate(const YAML::Node& key, std::set<std::string>* seen) {
    if (!key.IsScalar() || seen->insert(key.Scalar()).second) return false;
    Error(key, "duplicate key \"" + key.Scalar() + "\"");
    return true;
  }

  void ReadLists(const YAML::Node& n, RuleFile* file) {
    if (!n.IsMap()) return Error(n, "lists must map a list name to user ids");
    std::set<std::string> names;
    for (const auto& kv : n) {
      std::string name;
      if (Duplicate(kv.first, &names)) continue;
      if (!Scalar(kv.first, "a list name", &name)) continue;
      if (!kv.second.IsSequence()) {
        Error(kv.second, "list " + name + " must be a sequence of user ids");
        continue;
      }
      std::vector<std::string>& ids = file->lists[name];
      for (const auto& item : kv.second) {
        std::string id;
        if (Scalar(item, "a user id in list " + name, &id)) ids.push_back(id);
      }
    }
  }

  void ReadSegment(const YAML::Node& n, std::set<std::string>* seen, RuleFile* file) {
    if (!n.IsMap()) return Error(n, "a segment must be a map with id and rule");
    SegmentDef def;
    bool has_id = false, has_rule = false;
    std::set<std::string> keys;
    for (const auto& kv : n) {
      if (Duplicate(kv.first, &keys)) continue;
      std::string key = kv.first.Scalar();
      if (key == "id") {
        has_id = Scalar(kv.second, "id", &def.id);
        if (has_id && !IsValidSegmentId(def.id)) {
          Error(kv.second, "segment id \"" + def.id + "\" must match [A-Za-z0-9_-]{1,64}");
        } else if (has_id && !seen->insert(def.id).second) {
          Error(kv.second, "duplicate segment id \"" + def.id + "\"");
        }
      } else if (key == "name") {
        Scalar(kv.second, "name", &def.name);
      } else if (key == "rule") {
        has_rule = Scalar(kv.second, "rule", &def.rule);
        def.rule_pos = PosOf(kv.second);
        if (has_rule) def.rule_pieces = RulePieces(yaml_, kv.second.Mark(), def.rule);
      } else if (key == "emit_initial") {
        std::string v;
        if (!Scalar(kv.second, "emit_initial", &v)) continue;
        if (v == "true") def.emit_initial = true;
        else if (v == "false") def.emit_initial = false;
        else Error(kv.second, "emit_initial must be true or false");
      } else {
        Error(kv.first, "unknown segment key \"" + key + "\" (expected id, name, rule, emit_initial)");
      }
    }
    if (!has_id) Error(n, "segment without an id");
    if (!has_rule) Error(n, "segment " + def.id + " has no rule");
    if (def.name.empty()) def.name = def.id;
    file->segments.push_back(std::move(def));
  }

 private:
  std::string_view yaml_;
  std::vector<RuleError>* errors_;
};

}  // namespace

std::string RuleError::ToString() const {
  return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column) + ": " +
         reason;
}

bool IsValidSegmentId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<RuleFile> ParseRuleFile(std::string_view yaml, std::vector<RuleError>* errors) {
  errors->clear();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    errors->push_back({{e.mark.line + 1, e.mark.column + 1}, "not valid YAML: " + e.msg});
    return Status::InvalidArgument(errors->back().ToString());
  }
  RuleFile file;
  Reader r(yaml, errors);
  if (!root.IsMap()) {
    r.Error(root, "a rule file is a map with timezone, lists and segments");
  } else {
    std::set<std::string> seen, keys;
    for (const auto& kv : root) {
      if (r.Duplicate(kv.first, &keys)) continue;
      std::string key = kv.first.Scalar();
      if (key == "timezone") {
        r.Scalar(kv.second, "timezone", &file.timezone);
        file.timezone_pos = PosOf(kv.second);
      } else if (key == "lists") {
        r.ReadLists(kv.second, &file);
      } else if (key == "segments") {
        if (!kv.second.IsSequence()) {
          r.Error(kv.second, "segments must be a sequence");
          continue;
        }
        for (const auto& seg : kv.second) r.ReadSegment(seg, &seen, &file);
      } else {
        r.Error(kv.first, "unknown key \"" + key + "\" (expected timezone, lists, segments)");
      }
    }
  }
  if (!errors->empty()) return Status::InvalidArgument(errors->front().ToString());
  return file;
}

SourcePos MapRulePos(const SegmentDef& def, rules::Pos p) {
  const std::string& rule = def.rule;
  // The byte offset of p in the rule text (columns count bytes).
  size_t off = 0;
  for (int line = 1; line < p.line && off < rule.size(); ++line) {
    size_t nl = rule.find('\n', off);
    off = nl == std::string::npos ? rule.size() : nl + 1;
  }
  off = std::min(off + static_cast<size_t>(std::max(p.column - 1, 0)), rule.size());
  SegmentDef::RulePiece piece{0, def.rule_pos};
  for (const auto& candidate : def.rule_pieces) {
    if (candidate.offset > off && &candidate != &def.rule_pieces.front()) break;
    piece = candidate;
  }
  if (off < piece.offset) return piece.pos;
  // Lines the pieces do not cover (none, unless a quoted scalar had an
  // escape) continue at the piece's column.
  size_t line_start = piece.offset;
  int lines = 0;
  for (size_t i = piece.offset; i < off; ++i) {
    if (rule[i] == '\n') {
      ++lines;
      line_start = i + 1;
    }
  }
  return {piece.pos.line + lines, piece.pos.column + static_cast<int>(off - line_start)};
}

Result<RuleFile> LoadRuleFile(const std::string& path, std::vector<RuleError>* errors) {
  std::ifstream in(path);
  if (!in) {
    errors->clear();
    return Status::NotFound("cannot read rule file " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseRuleFile(ss.str(), errors);
}

}  // namespace segd
