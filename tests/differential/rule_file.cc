#include "rule_file.h"

#include <set>

#include "json_value.h"

namespace segd_ref {
namespace {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSeq, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<YamlNode> items;
  std::vector<YamlEntry> map;
  int line = 0;
};

struct YamlEntry {
  std::string key;
  YamlNode value;
};

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string StripComment(std::string_view s) {
  size_t p = s.find(" #");
  if (!s.empty() && s[0] == '#') return "";
  return Trim(p == std::string_view::npos ? s : s.substr(0, p));
}

class YamlReader {
 public:
  explicit YamlReader(std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      lines_.emplace_back(text.substr(start, end - start));
      start = end + 1;
    }
  }

  bool ReadDocument(YamlNode* out, std::string* error) {
    SkipEmpty();
    bool ok = i_ >= lines_.size() || ParseNodeAt(Indent(), out);
    SkipEmpty();
    if (ok && i_ < lines_.size()) ok = Fail("unexpected indentation");
    if (!ok) *error = "line " + std::to_string(i_ + 1) + ": " + error_;
    return ok;
  }

 private:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  static bool IsEmpty(const std::string& line) {
    std::string t = Trim(line);
    return t.empty() || t[0] == '#';
  }
  void SkipEmpty() {
    while (i_ < lines_.size() && IsEmpty(lines_[i_])) ++i_;
  }
  int Indent() const {
    const std::string& l = lines_[i_];
    return static_cast<int>(l.find_first_not_of(' '));
  }
  std::string Content() const { return lines_[i_].substr(Indent()); }
  static bool IsSeqItem(const std::string& content) {
    return content == "-" || content.rfind("- ", 0) == 0;
  }

  // Splits "key: rest"; false if the content is not a mapping entry.
  static bool SplitKey(const std::string& content, std::string* key, std::string* rest) {
    size_t colon;
    if (content[0] == '"' || content[0] == '\'') {
      size_t close = content.find(content[0], 1);
      if (close == std::string::npos) return false;
      *key = content.substr(1, close - 1);
      colon = close + 1;
      if (colon >= content.size() || content[colon] != ':') return false;
    } else {
      colon = content.find(": ");
      if (colon == std::string::npos && content.back() == ':') colon = content.size() - 1;
      if (colon == std::string::npos || content[0] == '[' || content[0] == '{') return false;
      *key = Trim(content.substr(0, colon));
    }
    if (colon + 1 < content.size() && content[colon + 1] != ' ') return false;
    *rest = colon + 1 < content.size() ? content.substr(colon + 1) : "";
    return true;
  }

  bool ParseNodeAt(int indent, YamlNode* out) {
    out->line = static_cast<int>(i_) + 1;
    std::string content = Content();
    std::string key, rest;
    if (IsSeqItem(content)) return ParseSeq(indent, out);
    if (SplitKey(content, &key, &rest)) return ParseMap(indent, out);
    ++i_;
    return ParseInlineValue(indent - 1, Trim(content), out);
  }

  bool ParseMap(int indent, YamlNode* out) {
    out->kind = YamlNode::Kind::kMap;
    std::set<std::string> keys;
    while (true) {
      SkipEmpty();
      if (i_ >= lines_.size() || Indent() != indent || IsSeqItem(Content())) return true;
      std::string key, rest;
      if (!SplitKey(Content(), &key, &rest)) return Fail("expected 'key: value'");
      if (!keys.insert(key).second) return Fail("duplicate key " + key);
      out->map.push_back(YamlEntry{key, YamlNode()});
      YamlNode* value = &out->map.back().value;
      value->line = static_cast<int>(i_) + 1;
      ++i_;
      if (!ParseValueAfterKey(indent, Trim(rest), value)) return false;
    }
  }

  bool ParseSeq(int indent, YamlNode* out) {
    out->kind = YamlNode::Kind::kSeq;
    while (true) {
      SkipEmpty();
      if (i_ >= lines_.size() || Indent() != indent || !IsSeqItem(Content())) return true;
      out->items.emplace_back();
      YamlNode* item = &out->items.back();
      item->line = static_cast<int>(i_) + 1;
      std::string after = lines_[i_].substr(indent + 1);
      std::string item_text = Trim(after);
      std::string key, rest;
      if (item_text.empty()) {
        ++i_;
        if (!ParseValueAfterKey(indent, "", item)) return false;
      } else if (SplitKey(item_text, &key, &rest)) {
        lines_[i_][indent] = ' ';  // "- k: v" reads as the mapping "  k: v"
        if (!ParseMap(Indent(), item)) return false;
      } else {
        ++i_;
        if (!ParseInlineValue(indent, item_text, item)) return false;
      }
    }
  }

  // The value of a key (or item) whose line was at `parent_indent`; `rest` is
  // what followed the key on that line, and i_ is already past that line.
  bool ParseValueAfterKey(int parent_indent, const std::string& rest, YamlNode* out) {
    if (StripComment(rest).empty()) {
      SkipEmpty();
      if (i_ < lines_.size() && Indent() > parent_indent) return ParseNodeAt(Indent(), out);
      if (i_ < lines_.size() && Indent() == parent_indent && IsSeqItem(Content())) {
        return ParseSeq(parent_indent, out);
      }
      out->kind = YamlNode::Kind::kNull;
      return true;
    }
    return ParseInlineValue(parent_indent, rest, out);
  }

  bool ParseInlineValue(int parent_indent, const std::string& text, YamlNode* out) {
    out->kind = YamlNode::Kind::kScalar;
    if (text[0] == '|' || text[0] == '>') return ParseBlockScalar(parent_indent, text, out);
    if (text[0] == '[') return ParseFlowSeq(text, out);
    size_t end = 0;
    if (text[0] == '"' || text[0] == '\'') {
      if (!ParseQuoted(text, &end, &out->scalar)) return Fail("bad quoted scalar");
      if (!StripComment(text.substr(end)).empty()) return Fail("text after a quoted scalar");
      return true;
    }
    out->scalar = StripComment(text);
    // Plain scalar continuation lines: more indented, joined by spaces.
    while (true) {
      SkipEmpty();
      if (i_ >= lines_.size() || Indent() <= parent_indent) return true;
      out->scalar += " " + StripComment(Content());
      ++i_;
    }
  }

  static bool ParseQuoted(const std::string& text, size_t* end, std::string* out) {
    if (text[0] == '"') {
      size_t pos = 0;
      if (!ParseJsonString(text, &pos, out)) return false;
      *end = pos;
      return true;
    }
    out->clear();
    for (size_t p = 1; p < text.size(); ++p) {
      if (text[p] != '\'') {
        out->push_back(text[p]);
      } else if (p + 1 < text.size() && text[p + 1] == '\'') {
        out->push_back('\'');
        ++p;
      } else {
        *end = p + 1;
        return true;
      }
    }
    return false;
  }

  bool ParseFlowSeq(const std::string& text, YamlNode* out) {
    out->kind = YamlNode::Kind::kSeq;
    size_t p = 1;
    auto skip = [&] {
      while (p < text.size() && text[p] == ' ') ++p;
    };
    skip();
    if (p < text.size() && text[p] == ']') {
      ++p;
    } else {
      while (true) {
        skip();
        if (p >= text.size()) return Fail("unterminated flow sequence");
        YamlNode item;
        item.kind = YamlNode::Kind::kScalar;
        if (text[p] == '"' || text[p] == '\'') {
          size_t end = 0;
          if (!ParseQuoted(text.substr(p), &end, &item.scalar)) return Fail("bad quoted scalar");
          p += end;
        } else {
          size_t e = text.find_first_of(",]", p);
          if (e == std::string::npos) return Fail("unterminated flow sequence");
          item.scalar = Trim(text.substr(p, e - p));
          p = e;
        }
        out->items.push_back(std::move(item));
        skip();
        if (p >= text.size()) return Fail("unterminated flow sequence");
        if (text[p++] == ']') break;
        if (text[p - 1] != ',') return Fail("expected , or ]");
      }
    }
    if (!StripComment(text.substr(p)).empty()) return Fail("text after a flow sequence");
    return true;
  }

  bool ParseBlockScalar(int parent_indent, const std::string& header, YamlNode* out) {
    std::string h = StripComment(header);
    bool folded = h[0] == '>';
    bool strip = h.size() > 1 && h[1] == '-';
    bool keep = h.size() > 1 && h[1] == '+';
    std::vector<std::string> body;
    int content_indent = -1;
    while (i_ < lines_.size()) {
      const std::string& line = lines_[i_];
      if (Trim(line).empty()) {
        body.emplace_back();
        ++i_;
        continue;
      }
      int ind = static_cast<int>(line.find_first_not_of(' '));
      if (ind <= parent_indent) break;
      if (content_indent < 0) content_indent = ind;
      if (ind < content_indent) return Fail("bad block scalar indentation");
      body.push_back(line.substr(content_indent));
      ++i_;
    }
    size_t trailing = 0;
    while (!body.empty() && body.back().empty()) {
      body.pop_back();
      ++trailing;
    }
    for (size_t k = 0; k < body.size(); ++k) {
      if (k > 0) out->scalar += folded && !body[k].empty() && !body[k - 1].empty() ? " " : "\n";
      out->scalar += body[k];
    }
    if (!strip && !body.empty()) out->scalar += "\n";
    if (keep) out->scalar += std::string(trailing, '\n');
    return true;
  }

  std::vector<std::string> lines_;
  size_t i_ = 0;
  std::string error_;
};

bool IsSegmentId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string At(const YamlNode& n) { return "line " + std::to_string(n.line) + ": "; }

bool ReadSegment(const YamlNode& node, SegmentDef* seg, std::string* error) {
  if (node.kind != YamlNode::Kind::kMap) {
    *error = At(node) + "a segment must be a mapping";
    return false;
  }
  for (const auto& [key, value] : node.map) {
    if (key != "id" && key != "name" && key != "rule" && key != "emit_initial") {
      *error = At(value) + "unknown segment key " + key;
      return false;
    }
    if (value.kind != YamlNode::Kind::kScalar && value.kind != YamlNode::Kind::kNull) {
      *error = At(value) + key + " must be a scalar";
      return false;
    }
    if (key == "id") seg->id = value.scalar;
    if (key == "name") seg->name = value.scalar;
    if (key == "rule") seg->rule = value.scalar;
  }
  if (!IsSegmentId(seg->id) || seg->rule.empty()) {
    *error = At(node) + "a segment needs an id [A-Za-z0-9_-]{1,64} and a rule";
    return false;
  }
  return true;
}

// Single-quoted, or double-quoted (JSON escapes are YAML escapes) when `s`
// holds a control character such as a newline.
std::string Quoted(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return JsonQuote(s);
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

bool ParseRuleFile(std::string_view text, RuleSet* out, std::string* error) {
  *out = RuleSet();
  YamlNode doc;
  if (!YamlReader(text).ReadDocument(&doc, error)) return false;
  if (doc.kind != YamlNode::Kind::kMap) {
    *error = "line 1: a rule file is a mapping";
    return false;
  }
  std::set<std::string> ids;
  for (const auto& [key, value] : doc.map) {
    if (key == "timezone") {
      if (value.kind != YamlNode::Kind::kScalar) {
        *error = At(value) + "timezone must be a scalar";
        return false;
      }
      out->timezone = value.scalar;
    } else if (key == "lists") {
      if (value.kind == YamlNode::Kind::kNull) continue;
      if (value.kind != YamlNode::Kind::kMap) {
        *error = At(value) + "lists must map names to user ids";
        return false;
      }
      for (const auto& [name, ids_node] : value.map) {
        std::vector<std::string> users;
        if (ids_node.kind == YamlNode::Kind::kSeq) {
          for (const YamlNode& u : ids_node.items) users.push_back(u.scalar);
        } else if (ids_node.kind != YamlNode::Kind::kNull) {
          *error = At(ids_node) + "a list is a sequence of user ids";
          return false;
        }
        out->lists.emplace_back(name, std::move(users));
      }
    } else if (key == "segments") {
      if (value.kind == YamlNode::Kind::kNull) continue;
      if (value.kind != YamlNode::Kind::kSeq) {
        *error = At(value) + "segments must be a sequence";
        return false;
      }
      for (const YamlNode& item : value.items) {
        SegmentDef seg;
        if (!ReadSegment(item, &seg, error)) return false;
        if (!ids.insert(seg.id).second) {
          *error = At(item) + "duplicate segment id " + seg.id;
          return false;
        }
        out->segments.push_back(std::move(seg));
      }
    } else {
      *error = At(value) + "unknown key " + key;
      return false;
    }
  }
  return true;
}

std::string WriteRuleFile(const RuleSet& rules) {
  std::string out = "timezone: " + Quoted(rules.timezone) + "\n";
  if (!rules.lists.empty()) {
    out += "lists:\n";
    for (const auto& [name, users] : rules.lists) {
      out += "  " + Quoted(name) + ": [";
      for (size_t k = 0; k < users.size(); ++k) out += (k ? ", " : "") + Quoted(users[k]);
      out += "]\n";
    }
  }
  out += "segments:\n";
  for (const SegmentDef& seg : rules.segments) {
    out += "  - id: " + Quoted(seg.id) + "\n";
    if (!seg.name.empty()) out += "    name: " + Quoted(seg.name) + "\n";
    out += "    rule: " + Quoted(seg.rule) + "\n";
  }
  return out;
}

}  // namespace segd_ref
