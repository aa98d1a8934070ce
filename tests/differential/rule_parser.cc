// A recursive-descent parser of SEMANTICS §3 over a lazy tokenizer. It aims
// at accepting every valid rule; its error messages are only for debugging.
#include <cstdlib>
#include <set>

#include "calendar.h"
#include "json_value.h"
#include "rule_ast.h"

namespace segd_ref {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c) || c == ':' || c == '-'; }

const std::set<std::string, std::less<>> kKeywords = {
    "and", "or", "not", "in", "true", "false", "within", "today", "yesterday", "user"};

struct Token {
  enum class Kind { kEnd, kName, kNumber, kString, kQuantity, kDate, kPunct, kError };
  Kind kind = Kind::kEnd;
  std::string text;     // name, number token, string value, punctuation, date
  bool quoted = false;  // kName written in backquotes
  int64_t n = 0;        // kQuantity
  char unit = 0;        // kQuantity: d h m s
  size_t begin = 0, end = 0;

  bool IsKeyword(std::string_view word) const {
    return kind == Kind::kName && !quoted && text == word;
  }
  bool IsPunct(std::string_view p) const { return kind == Kind::kPunct && text == p; }
};

Token Lex(std::string_view s, size_t pos) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) {
    ++pos;
  }
  Token t;
  t.begin = pos;
  if (pos >= s.size()) {
    t.end = pos;
    return t;
  }
  char c = s[pos];
  if (c == '`') {
    size_t close = s.find('`', pos + 1);
    if (close == std::string_view::npos || close == pos + 1) {
      t.kind = Token::Kind::kError;
      t.end = s.size();
      return t;
    }
    t.kind = Token::Kind::kName;
    t.quoted = true;
    t.text = std::string(s.substr(pos + 1, close - pos - 1));
    t.end = close + 1;
    return t;
  }
  if (c == '"') {
    size_t p = pos;
    t.kind = ParseJsonString(s, &p, &t.text) ? Token::Kind::kString : Token::Kind::kError;
    t.end = p;
    return t;
  }
  if (IsDigit(c) || (c == '-' && pos + 1 < s.size() && IsDigit(s[pos + 1]))) {
    // A date: YYYY-MM-DD.
    if (pos + 10 <= s.size() && IsDigit(s[pos]) && IsDigit(s[pos + 1]) && IsDigit(s[pos + 2]) &&
        IsDigit(s[pos + 3]) && s[pos + 4] == '-' && IsDigit(s[pos + 5]) && IsDigit(s[pos + 6]) &&
        s[pos + 7] == '-' && IsDigit(s[pos + 8]) && IsDigit(s[pos + 9]) &&
        (pos + 10 == s.size() || !IsNameChar(s[pos + 10]))) {
      t.kind = Token::Kind::kDate;
      t.text = std::string(s.substr(pos, 10));
      t.end = pos + 10;
      return t;
    }
    size_t p = pos + (c == '-' ? 1 : 0);
    while (p < s.size() && IsDigit(s[p])) ++p;
    bool integer = true;
    if (p + 1 < s.size() && s[p] == '.' && IsDigit(s[p + 1])) {
      integer = false;
      ++p;
      while (p < s.size() && IsDigit(s[p])) ++p;
    }
    t.text = std::string(s.substr(pos, p - pos));
    if (integer && c != '-' && p < s.size() &&
        (s[p] == 'd' || s[p] == 'h' || s[p] == 'm' || s[p] == 's') &&
        (p + 1 == s.size() || !IsNameChar(s[p + 1]))) {
      t.kind = Token::Kind::kQuantity;
      t.n = std::strtoll(t.text.c_str(), nullptr, 10);
      t.unit = s[p];
      t.end = p + 1;
      return t;
    }
    t.kind = Token::Kind::kNumber;
    t.end = p;
    return t;
  }
  if (IsNameStart(c)) {
    size_t p = pos + 1;
    while (p < s.size() && IsNameChar(s[p]) &&
           !(s[p] == '-' && p + 1 < s.size() && s[p + 1] == '>')) {
      ++p;
    }
    t.kind = Token::Kind::kName;
    t.text = std::string(s.substr(pos, p - pos));
    t.end = p;
    return t;
  }
  static const char* const kPuncts[] = {"->", "..", "!=", "<=", ">=", "=", "<", ">", "(",
                                        ")",  "[",  "]",  "{",  "}",  ",", ".", "@"};
  for (const char* p : kPuncts) {
    std::string_view pv(p);
    if (s.substr(pos, pv.size()) == pv) {
      t.kind = Token::Kind::kPunct;
      t.text = std::string(pv);
      t.end = pos + pv.size();
      return t;
    }
  }
  t.kind = Token::Kind::kError;
  t.end = pos + 1;
  return t;
}

void AssignIds(Node* node, int* next_id) {
  node->id = (*next_id)++;
  for (auto& child : node->children) AssignIds(child.get(), next_id);
}

class RuleParser {
 public:
  explicit RuleParser(std::string_view text) : text_(text) {}

  std::unique_ptr<Node> Parse(std::string* error) {
    auto root = ParseOr();
    if (root && Peek().kind != Token::Kind::kEnd) root = Fail("unexpected text after the rule");
    if (!root) {
      *error = "column " + std::to_string(error_pos_ + 1) + ": " + error_;
      return nullptr;
    }
    int next_id = 0;
    AssignIds(root.get(), &next_id);
    return root;
  }

 private:
  Token Peek() const { return Lex(text_, pos_); }
  Token Next() {
    Token t = Lex(text_, pos_);
    pos_ = t.end;
    return t;
  }
  bool Accept(std::string_view punct) {
    if (!Peek().IsPunct(punct)) return false;
    Next();
    return true;
  }
  bool AcceptKeyword(std::string_view word) {
    if (!Peek().IsKeyword(word)) return false;
    Next();
    return true;
  }
  std::nullptr_t Fail(std::string message) {
    if (error_.empty()) {
      error_ = std::move(message);
      error_pos_ = Peek().begin;
    }
    return nullptr;
  }
  bool Expect(std::string_view punct) {
    if (Accept(punct)) return true;
    Fail("expected '" + std::string(punct) + "'");
    return false;
  }

  std::unique_ptr<Node> ParseBinary(Node::Kind kind, std::string_view word) {
    auto first = kind == Node::Kind::kOr ? ParseBinary(Node::Kind::kAnd, "and") : ParseUnary();
    if (!first || !Peek().IsKeyword(word)) return first;
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->children.push_back(std::move(first));
    while (AcceptKeyword(word)) {
      auto next = kind == Node::Kind::kOr ? ParseBinary(Node::Kind::kAnd, "and") : ParseUnary();
      if (!next) return nullptr;
      node->children.push_back(std::move(next));
    }
    return node;
  }
  std::unique_ptr<Node> ParseOr() { return ParseBinary(Node::Kind::kOr, "or"); }

  std::unique_ptr<Node> ParseUnary() {
    if (AcceptKeyword("not")) {
      auto child = ParseUnary();
      if (!child) return nullptr;
      auto node = std::make_unique<Node>();
      node->kind = Node::Kind::kNot;
      node->children.push_back(std::move(child));
      return node;
    }
    if (Accept("(")) {
      auto inner = ParseOr();
      if (!inner || !Expect(")")) return nullptr;
      return inner;
    }
    Token t = Peek();
    if (t.kind == Token::Kind::kName && !t.quoted && Lex(text_, t.end).IsPunct("(")) {
      if (t.text == "did") return ParseDid();
      if (t.text == "in_segment") return ParseInSegment();
      if (t.text == "in_list") return ParseInList();
      if (t.text == "dropped") return ParseDropped();
    }
    return ParseComparison();
  }

  std::unique_ptr<Node> ParseComparison() {
    auto node = std::make_unique<Node>();
    if (!ParseValue(&node->lhs)) return nullptr;
    if (AcceptKeyword("in")) {
      node->kind = Node::Kind::kIn;
      if (!ParseLiteralList(&node->literals)) return nullptr;
      return node;
    }
    node->kind = Node::Kind::kCompare;
    if (!ParseOp(&node->op) || !ParseValue(&node->rhs)) return nullptr;
    return node;
  }

  bool ParseOp(CmpOp* op) {
    static const std::pair<const char*, CmpOp> kOps[] = {{"=", CmpOp::kEq}, {"!=", CmpOp::kNe},
                                                         {"<", CmpOp::kLt}, {"<=", CmpOp::kLe},
                                                         {">", CmpOp::kGt}, {">=", CmpOp::kGe}};
    Token t = Peek();
    for (const auto& [text, value] : kOps) {
      if (t.IsPunct(text)) {
        Next();
        *op = value;
        return true;
      }
    }
    Fail("expected a comparison operator");
    return false;
  }

  bool ParseLiteral(Scalar* out) {
    Token t = Peek();
    if (t.kind == Token::Kind::kNumber) {
      *out = Scalar::Number(std::strtod(t.text.c_str(), nullptr));
    } else if (t.kind == Token::Kind::kString) {
      *out = Scalar::String(t.text);
    } else if (t.IsKeyword("true") || t.IsKeyword("false")) {
      *out = Scalar::Bool(t.text == "true");
    } else {
      Fail("expected a literal");
      return false;
    }
    Next();
    return true;
  }

  bool ParseLiteralList(std::vector<Scalar>* out) {
    if (!Expect("[")) return false;
    do {
      out->emplace_back();
      if (!ParseLiteral(&out->back())) return false;
    } while (Accept(","));
    return Expect("]");
  }

  bool ParseName(std::string* out, const char* what) {
    Token t = Peek();
    if (t.kind != Token::Kind::kName || (!t.quoted && kKeywords.count(t.text) > 0)) {
      Fail(std::string("expected ") + what);
      return false;
    }
    Next();
    *out = t.text;
    return true;
  }

  bool ParseValue(ValueExpr* out) {
    Token t = Peek();
    if (t.kind == Token::Kind::kNumber || t.kind == Token::Kind::kString || t.IsKeyword("true") ||
        t.IsKeyword("false")) {
      out->kind = ValueExpr::Kind::kLiteral;
      return ParseLiteral(&out->literal);
    }
    if (t.IsKeyword("user")) {
      Next();
      out->kind = ValueExpr::Kind::kUserProp;
      if (!Expect(".") || !ParseName(&out->prop, "a user property")) return false;
      if (Accept("@")) {
        if (!AcceptKeyword("yesterday")) {
          Fail("expected 'yesterday' after '@'");
          return false;
        }
        out->at_yesterday = true;
      }
      return true;
    }
    if (t.kind == Token::Kind::kName && !t.quoted && Lex(text_, t.end).IsPunct("(")) {
      if (t.text == "count")
        out->kind = ValueExpr::Kind::kCount;
      else if (t.text == "active_days")
        out->kind = ValueExpr::Kind::kActiveDays;
      else if (t.text == "sum")
        out->kind = ValueExpr::Kind::kSum;
      else if (t.text == "days_since")
        out->kind = ValueExpr::Kind::kDaysSince;
      else {
        Fail("unknown function " + t.text);
        return false;
      }
      Next();
      Next();  // "("
      if (!ParseSelector(&out->selector)) return false;
      if (out->kind == ValueExpr::Kind::kSum) {
        if (!Expect(".") || !ParseName(&out->prop, "a property")) return false;
      }
      if (out->kind != ValueExpr::Kind::kDaysSince && Accept(",")) {
        if (!ParseWindow(&out->window)) return false;
      }
      return Expect(")");
    }
    Fail("expected a value");
    return false;
  }

  bool ParseSelector(Selector* out) {
    if (!ParseName(&out->event, "an event name")) return false;
    if (!Accept("{")) return true;
    do {
      Filter f;
      if (!ParseName(&f.prop, "a property")) return false;
      if (AcceptKeyword("in")) {
        f.is_in = true;
        if (!ParseLiteralList(&f.literals)) return false;
      } else {
        f.literals.emplace_back();
        if (!ParseOp(&f.op) || !ParseLiteral(&f.literals.back())) return false;
      }
      out->filters.push_back(std::move(f));
    } while (Accept(","));
    return Expect("}");
  }

  bool ParseDate(int64_t* days) {
    Token t = Peek();
    if (t.kind != Token::Kind::kDate) {
      Fail("expected a date");
      return false;
    }
    int y = std::atoi(t.text.substr(0, 4).c_str());
    unsigned m = std::atoi(t.text.substr(5, 2).c_str());
    unsigned d = std::atoi(t.text.substr(8, 2).c_str());
    static constexpr unsigned kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > kMonthDays[m - 1] || (m == 2 && d == 29 && !leap)) {
      Fail("invalid date");
      return false;
    }
    Next();
    *days = Calendar::DaysFromCivil(y, m, d);
    return true;
  }

  bool ParseWindow(Window* out) {
    Token t = Peek();
    if (t.kind == Token::Kind::kQuantity && (t.unit == 'd' || t.unit == 'h') && t.n > 0) {
      Next();
      out->kind = t.unit == 'd' ? Window::Kind::kDays : Window::Kind::kHours;
      out->n = t.n;
      return true;
    }
    if (AcceptKeyword("today")) {
      out->kind = Window::Kind::kToday;
      return true;
    }
    if (AcceptKeyword("yesterday")) {
      out->kind = Window::Kind::kYesterday;
      return true;
    }
    out->kind = Window::Kind::kRange;
    if (!ParseDate(&out->from_day) || !Expect("..") || !ParseDate(&out->to_day)) return false;
    if (out->to_day < out->from_day) {
      Fail("date range ends before it starts");
      return false;
    }
    return true;
  }

  std::unique_ptr<Node> ParseDid() {
    Next();
    Next();
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kDid;
    node->steps.emplace_back();
    if (!ParseSelector(&node->steps[0])) return nullptr;
    if (Accept(",") && !ParseWindow(&node->window)) return nullptr;
    if (!Expect(")")) return nullptr;
    return node;
  }

  // The id is read raw, as in the rule file: [A-Za-z0-9_-]+ (or backquoted).
  std::unique_ptr<Node> ParseInSegment() {
    Next();
    Next();
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kInSegment;
    Token t = Peek();
    if (t.kind == Token::Kind::kName && t.quoted) {
      node->name = t.text;
      Next();
    } else {
      size_t p = t.begin;
      while (p < text_.size() && (IsNameStart(text_[p]) || IsDigit(text_[p]) || text_[p] == '-')) {
        ++p;
      }
      if (p == t.begin) return Fail("expected a segment id");
      node->name = std::string(text_.substr(t.begin, p - t.begin));
      pos_ = p;
    }
    if (!Expect(")")) return nullptr;
    return node;
  }

  std::unique_ptr<Node> ParseInList() {
    Next();
    Next();
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kInList;
    Token t = Next();
    if (t.kind != Token::Kind::kString) return Fail("expected a list name string");
    node->name = t.text;
    if (!Expect(")")) return nullptr;
    return node;
  }

  std::unique_ptr<Node> ParseDropped() {
    Next();
    Next();
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kDropped;
    do {
      node->steps.emplace_back();
      if (!ParseSelector(&node->steps.back())) return nullptr;
    } while (Accept("->"));
    if (node->steps.size() < 2) return Fail("dropped needs at least two steps");
    if (!Expect(",")) return nullptr;
    if (!AcceptKeyword("within")) return Fail("expected 'within'");
    Token t = Next();
    if (t.kind != Token::Kind::kQuantity || t.n <= 0) return Fail("expected a duration");
    int64_t unit_ms = t.unit == 's'   ? 1000
                      : t.unit == 'm' ? 60'000
                      : t.unit == 'h' ? kHourMs
                                      : kDayMs;
    node->within_ms = t.n * unit_ms;
    if (Accept(",") && !ParseWindow(&node->window)) return nullptr;
    if (!Expect(")")) return nullptr;
    return node;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
};

}  // namespace

std::string_view CmpOpText(CmpOp op) {
  switch (op) {
    case CmpOp::kEq:
      return "=";
    case CmpOp::kNe:
      return "!=";
    case CmpOp::kLt:
      return "<";
    case CmpOp::kLe:
      return "<=";
    case CmpOp::kGt:
      return ">";
    case CmpOp::kGe:
      return ">=";
  }
  return "?";
}

std::unique_ptr<Node> ParseRule(std::string_view text, std::string* error) {
  return RuleParser(text).Parse(error);
}

}  // namespace segd_ref
