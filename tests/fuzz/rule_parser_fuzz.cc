// libFuzzer target for the rule language (rules/lexer, parser, printer,
// checker): any bytes either parse, or are refused with exactly one
// diagnostic at a position inside the text. A rule that parses prints to a
// canonical text that parses again and prints identically, and the checker
// runs on it. Crashes, sanitizer reports and broken invariants (abort) are
// findings.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rules/checker.h"
#include "rules/parser.h"

namespace segd::rules {
namespace {

void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "rule_parser_fuzz: invariant broken: %s\n%.*s\n", what,
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
  }
}

// A position is inside the text: its line exists, and its column is at most
// one past the end of that line.
bool InText(std::string_view text, Pos p) {
  size_t start = 0;
  for (int line = 1; line < p.line; ++line) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return false;
    start = nl + 1;
  }
  size_t end = std::min(text.find('\n', start), text.size());
  return p.column >= 1 && static_cast<size_t>(p.column) <= end - start + 1;
}

void CheckDiagnostics(std::string_view text, const std::vector<Diagnostic>& diags) {
  for (const Diagnostic& d : diags) {
    Check(InText(text, d.pos), "a diagnostic position is outside the text", text);
    Check(!d.reason.empty(), "a diagnostic has no reason", text);
  }
}

}  // namespace
}  // namespace segd::rules

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace segd::rules;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<Diagnostic> errors;
  auto rule = ParseRule(text, &errors);
  if (!rule.ok()) {
    Check(errors.size() == 1, "a refused rule must have exactly one error", text);
    CheckDiagnostics(text, errors);
    return 0;
  }
  Check(errors.empty(), "a parsed rule has errors", text);

  const std::string printed = ToString(**rule);
  auto again = ParseRule(printed, &errors);
  Check(again.ok(), "the canonical text does not parse", printed);
  Check(ToString(**again) == printed, "the canonical text does not print the same", printed);

  CheckContext ctx;
  ctx.earlier_segments = {"a", "b", "2024"};
  ctx.self_id = "self";
  ctx.known_lists = {"offline_x"};
  ctx.max_window_days = 30;
  std::vector<Diagnostic> warnings;
  CheckRule(**rule, ctx, &errors, &warnings);
  CheckDiagnostics(text, errors);
  CheckDiagnostics(text, warnings);
  // The checker judges the tree, not the text: the canonical text gets the
  // same number of errors and warnings.
  std::vector<Diagnostic> errors2, warnings2;
  CheckRule(**again, ctx, &errors2, &warnings2);
  Check(errors2.size() == errors.size() && warnings2.size() == warnings.size(),
        "the canonical text checks differently", printed);
  return 0;
}
