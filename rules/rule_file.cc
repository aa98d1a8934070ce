#include "rules/rule_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace segd {

namespace {

SourcePos PosOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  return {m.line + 1, m.column + 1};
}

class Reader {
 public:
  explicit Reader(std::vector<RuleError>* errors) : errors_(errors) {}

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

  void ReadLists(const YAML::Node& n, RuleFile* file) {
    if (!n.IsMap()) return Error(n, "lists must map a list name to user ids");
    for (const auto& kv : n) {
      std::string name;
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
    for (const auto& kv : n) {
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
  Reader r(errors);
  if (!root.IsMap()) {
    r.Error(root, "a rule file is a map with timezone, lists and segments");
  } else {
    std::set<std::string> seen;
    for (const auto& kv : root) {
      std::string key = kv.first.Scalar();
      if (key == "timezone") {
        r.Scalar(kv.second, "timezone", &file.timezone);
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
