// segd_gen --seed N --users U --days D --rules-out RULES.yaml --records-out RECORDS.jsonl
//          [--timezone ZONE] [--start YYYY-MM-DD] [--changes-out CHANGES.jsonl]
//          [--coverage-out REPORT.txt] [--require-coverage]
//
// Writes a generated rule file and input stream (generator.h), replays the
// stream through the reference and prints the coverage report (coverage.h)
// on stderr, or to --coverage-out. --changes-out also writes the reference's
// change records. With --require-coverage the exit status is 3 when some
// construct or boundary kind was not reached. Bad arguments: exit status 2.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "coverage.h"
#include "generator.h"
#include "rule_file.h"

namespace {

int Usage() {
  std::cerr << "usage: segd_gen --seed N --users U --days D --rules-out F --records-out F\n"
               "       [--timezone ZONE] [--start YYYY-MM-DD] [--changes-out F]\n"
               "       [--coverage-out F] [--require-coverage]\n";
  return 2;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) std::cerr << "cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  bool require = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--require-coverage") {
      require = true;
    } else if (flag.rfind("--", 0) == 0 && i + 1 < argc) {
      flags[flag.substr(2)] = argv[++i];
    } else {
      return Usage();
    }
  }
  for (const auto& [name, value] : flags) {
    static const char* const kKnown[] = {"seed",      "users",       "days",
                                         "rules-out", "records-out", "timezone",
                                         "start",     "changes-out", "coverage-out"};
    bool known = false;
    for (const char* k : kKnown) known |= name == k;
    if (!known) return Usage();
  }
  if (flags.count("rules-out") == 0 || flags.count("records-out") == 0) return Usage();

  segd_ref::GeneratorConfig config;
  if (flags.count("seed")) config.seed = std::strtoull(flags["seed"].c_str(), nullptr, 10);
  if (flags.count("users")) config.users = std::atoi(flags["users"].c_str());
  if (flags.count("days")) config.days = std::atoi(flags["days"].c_str());
  if (flags.count("timezone")) config.timezone = flags["timezone"];
  if (flags.count("start")) config.start_date = flags["start"];

  segd_ref::GeneratedStream stream;
  std::string error;
  if (!segd_ref::Generate(config, &stream, &error)) {
    std::cerr << error << "\n";
    return 2;
  }
  std::string records;
  for (const std::string& line : stream.records) records += line + "\n";
  if (!WriteFile(flags["rules-out"], segd_ref::WriteRuleFile(stream.rules)) ||
      !WriteFile(flags["records-out"], records)) {
    return 2;
  }

  segd_ref::CoverageReport report;
  std::vector<std::string> changes;
  if (!segd_ref::MeasureCoverage(stream.rules, stream.records, &report, &changes, &error)) {
    std::cerr << "generated rules are invalid: " << error << "\n";
    return 2;
  }
  if (flags.count("changes-out")) {
    std::string text;
    for (const std::string& line : changes) text += line + "\n";
    if (!WriteFile(flags["changes-out"], text)) return 2;
  }
  if (flags.count("coverage-out")) {
    if (!WriteFile(flags["coverage-out"], report.ToText())) return 2;
  } else {
    std::cerr << report.ToText();
  }
  return require && !report.AllReached() ? 3 : 0;
}
