// segd_reference --rules RULES.yaml --input RECORDS.jsonl
//
// Replays RECORDS (JSON lines, one partition, clock: event; blank lines
// skipped; "-" reads stdin) through the reference engine with the rule file
// RULES (YAML, SEMANTICS §3) and prints the change records as JSON lines on
// stdout. Each rejected record goes to stderr as {"line":N,"reason":"..."}.
// Exit status: 0 on success, 2 on bad arguments or an invalid rule file.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "reference.h"
#include "rule_file.h"

namespace {

int Usage() {
  std::cerr << "usage: segd_reference --rules RULES.yaml --input RECORDS.jsonl\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rules_path, input_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--rules") {
      rules_path = argv[i + 1];
    } else if (flag == "--input") {
      input_path = argv[i + 1];
    } else {
      return Usage();
    }
  }
  if (rules_path.empty() || input_path.empty() || argc % 2 == 0) return Usage();

  std::ifstream rules_file(rules_path);
  if (!rules_file) {
    std::cerr << "cannot read " << rules_path << "\n";
    return 2;
  }
  std::stringstream text;
  text << rules_file.rdbuf();
  segd_ref::RuleSet rules;
  std::string error;
  if (!segd_ref::ParseRuleFile(text.str(), &rules, &error)) {
    std::cerr << rules_path << ": " << error << "\n";
    return 2;
  }
  auto reference = segd_ref::Reference::Create(rules, &error);
  if (!reference) {
    std::cerr << rules_path << ": " << error << "\n";
    return 2;
  }

  std::ifstream input_file;
  std::istream* input = &std::cin;
  if (input_path != "-") {
    input_file.open(input_path);
    if (!input_file) {
      std::cerr << "cannot read " << input_path << "\n";
      return 2;
    }
    input = &input_file;
  }
  std::string line;
  int64_t line_number = 0;
  while (std::getline(*input, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    segd_ref::FeedResult result = reference->Feed(line);
    if (!result.accepted) {
      std::cerr << "{\"line\":" << line_number << ",\"reason\":\"" << result.reason << "\"}\n";
      continue;
    }
    for (const segd_ref::Change& change : result.changes) std::cout << change.ToJson() << "\n";
  }
  return 0;
}
