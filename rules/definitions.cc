// Rule-set changes over existing state (SEMANTICS.md §5, README "A changed
// rule set keeps the existing state"): the per-user state is laid out by
// the plan, so a store written under another plan is migrated — features,
// properties and funnels carried over by their canonical text, change
// counts by segment id — and the new or changed segments are evaluated for
// every user.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <sstream>

#include "rules/definitions.h"

#include "common/worker_pool.h"
#include "rules/engine.h"
#include "rules/features.h"
#include "rules/parser.h"

namespace segd::rules {

namespace {

constexpr char kLayoutKey[] = "layout";
constexpr char kSegmentsKey[] = "segments";
constexpr char kTimezoneKey[] = "timezone";
constexpr char kListsKey[] = "lists";
// Users migrated between two write-backs of the engine's cache.
constexpr uint32_t kMigrationChunk = 4096;
// Users a migration's scan reads before handing them to the workers (in
// the transaction, a chunk may overrun kMigrationChunk by two groups;
// ahead of it, up to two more chunks wait between the scan and the work).
constexpr size_t kScanGroup = 1024;

// The rule-set records are lines of tab-separated fields; names may hold
// tabs or newlines (backquoted), so fields escape them.
std::string Escape(std::string_view field) {
  std::string out;
  for (char c : field) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else if (c == '\x1f') out += "\\u";
    else out.push_back(c);
  }
  return out;
}

std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out.push_back(field[i]);
      continue;
    }
    char c = field[++i];
    out.push_back(c == 't' ? '\t' : c == 'n' ? '\n' : c == 'u' ? '\x1f' : c);
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

// A line's fields, unescaped.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out = Split(line, '\t');
  for (std::string& f : out) f = Unescape(f);
  return out;
}

std::string Line(std::initializer_list<std::string_view> fields) {
  std::string out;
  for (std::string_view f : fields) {
    if (!out.empty()) out.push_back('\t');
    out += Escape(f);
  }
  return out + "\n";
}

// A deleted segment is remembered (rule "-") so that re-creating it starts
// a new generation and no change id repeats (SEMANTICS.md §4).
constexpr char kDeletedRule[] = "-";

}  // namespace

// "f key sum sum…" per feature, "p name", "u funnel key" (tab-separated).
std::string LayoutText(const RuleSet& rules) {
  std::string out;
  for (const auto& f : rules.features()) {
    std::string line = "f\t" + Escape(f.key);
    for (const auto& p : f.sum_props) line += "\t" + Escape(p);
    out += line + "\n";
  }
  for (const auto& p : rules.props()) out += Line({"p", p.name});
  for (const auto& f : rules.funnels()) out += Line({"u", f.key});
  return out;
}

std::string PartitionEngine::LayoutText() const { return rules::LayoutText(*rules_); }

// "name digest" per list read by a segment, by name.
std::string ListsText(const RuleSet& rules) {
  std::map<std::string, std::string> lines;
  for (size_t i = 0; i < rules.list_names().size(); ++i) {
    int l = static_cast<int>(i);
    if (!rules.SegmentsForList(l).empty()) {
      lines[rules.list_names()[i]] = Line({rules.list_names()[i], rules.ListDigest(l)});
    }
  }
  std::string out;
  for (const auto& [name, line] : lines) out += line;
  return out;
}

std::vector<std::string> ListChangeUsers(const RuleSet& from, const RuleSet& to) {
  std::set<std::string> users;
  for (size_t i = 0; i < to.list_names().size(); ++i) {
    int l = static_cast<int>(i);
    if (to.SegmentsForList(l).empty()) continue;
    const std::string& name = to.list_names()[i];
    int f = from.ListIndex(name);
    if (f >= 0 && from.ListDigest(f) == to.ListDigest(l)) continue;
    if (auto it = to.lists().find(name); it != to.lists().end()) {
      for (const std::string& u : it->second) {
        if (!from.InList(f, u)) users.insert(u);
      }
    }
    if (auto it = from.lists().find(name); it != from.lists().end()) {
      for (const std::string& u : it->second) {
        if (!to.InList(l, u)) users.insert(u);
      }
    }
  }
  return {users.begin(), users.end()};
}

// "id generation canonical-rule" per segment in definition order, then the
// deleted ones with rule "-".
std::string PartitionEngine::SegmentsText() const {
  std::string out;
  for (size_t i = 0; i < rules_->segments().size(); ++i) {
    const CompiledSegment& s = rules_->segments()[i];
    out += Line({s.id, std::to_string(generations_[i]), ToString(*s.rule)});
  }
  for (const auto& [id, generation] : deleted_) {
    out += Line({id, std::to_string(generation), kDeletedRule});
  }
  return out;
}

// Compares the stored rule set with this one. REQUIRES: in a transaction.
Status PartitionEngine::LoadDefinitions() {
  generations_.assign(rules_->segments().size(), 1);
  old_layout_.clear();
  old_segments_.clear();
  auto tz = store_->GetMeta(kTimezoneKey);
  auto layout = store_->GetMeta(kLayoutKey);
  auto segments = store_->GetMeta(kSegmentsKey);
  auto lists = store_->GetMeta(kListsKey);
  for (const auto* r : {&tz, &layout, &segments, &lists}) {
    if (!r->ok()) return r->status();
  }
  bool has_users = store_->user_count() > 0;
  const std::string& zone = rules_->calendar().zone_name();
  if (tz->has_value() && **tz != zone && has_users) {
    return Status::FailedPrecondition("the rule set's time zone is " + zone +
                                      " but the state was kept in " + **tz +
                                      "; a time zone cannot change while state exists");
  }
  std::map<std::string, std::pair<uint32_t, std::string>> stored;  // id → generation, rule
  if (segments->has_value()) {
    for (const std::string& line : Split(**segments, '\n')) {
      auto f = Fields(line);
      if (f.size() == 3) stored[f[0]] = {static_cast<uint32_t>(std::stoul(f[1])), f[2]};
    }
  }
  deleted_.clear();
  std::set<std::string> current;
  for (size_t i = 0; i < rules_->segments().size(); ++i) {
    const CompiledSegment& s = rules_->segments()[i];
    current.insert(s.id);
    auto it = stored.find(s.id);
    if (it == stored.end()) continue;
    bool same = it->second.second == ToString(*s.rule);  // never "-": no rule prints so
    generations_[i] = it->second.first + (same ? 0 : 1);
  }
  for (const auto& [id, gen_rule] : stored) {
    if (current.count(id) == 0) deleted_.emplace_back(id, gen_rule.first);
  }
  bool same = tz->has_value() && **tz == zone && layout->has_value() &&
              **layout == LayoutText() && segments->has_value() && **segments == SegmentsText();
  // The lists: a segment that reads a list whose digest moved (or that the
  // store did not record) is evaluated again. A store from before lists
  // were recorded takes them as they are.
  std::string current_lists = ListsText(*rules_);
  stored_lists_ = lists->value_or(current_lists);
  relist_segs_.clear();
  if (stored_lists_ != current_lists) {
    std::map<std::string, std::string> digests;
    for (const std::string& line : Split(stored_lists_, '\n')) {
      auto f = Fields(line);
      if (f.size() == 2) digests[f[0]] = f[1];
    }
    std::set<int> segs;
    for (size_t i = 0; i < rules_->list_names().size(); ++i) {
      int l = static_cast<int>(i);
      auto it = digests.find(rules_->list_names()[i]);
      if (it != digests.end() && it->second == rules_->ListDigest(l)) continue;
      segs.insert(rules_->SegmentsForList(l).begin(), rules_->SegmentsForList(l).end());
    }
    relist_segs_.assign(segs.begin(), segs.end());
  }
  definitions_stored_ = same && lists->has_value() && **lists == current_lists;
  migrate_ = has_users && !same;
  relist_ = has_users && !relist_segs_.empty();
  if (migrate_) {
    old_layout_ = layout->value_or(LayoutText());
    old_segments_ = segments->value_or("");
  }
  return Status::Ok();
}

Status PartitionEngine::StoreDefinitions() {
  SEGD_RETURN_IF_ERROR(store_->PutMeta(kTimezoneKey, rules_->calendar().zone_name()));
  SEGD_RETURN_IF_ERROR(store_->PutMeta(kLayoutKey, LayoutText()));
  SEGD_RETURN_IF_ERROR(store_->PutMeta(kListsKey, ListsText(*rules_)));
  return store_->PutMeta(kSegmentsKey, SegmentsText());
}

ParsedLayout ParsedLayout::Parse(const std::string& layout) {
  ParsedLayout out;
  for (const std::string& line : Split(layout, '\n')) {
    auto f = Fields(line);
    if (f.size() >= 2 && f[0] == "f") {
      out.features.push_back({f[1], std::vector<std::string>(f.begin() + 2, f.end())});
    } else if (f.size() == 2 && f[0] == "p") {
      out.props.push_back(f[1]);
    } else if (f.size() == 2 && f[0] == "u") {
      out.funnels.push_back(f[1]);
    }
  }
  return out;
}

// Whether the plan's features, properties and funnels each begin with the
// old layout's, in its order (features with the same sums): new ones only
// added after them, as new segments add them.
bool PartitionEngine::LayoutExtends(const ParsedLayout& old) const {
  const RuleSet& r = *rules_;
  if (old.features.size() > r.features().size() || old.props.size() > r.props().size() ||
      old.funnels.size() > r.funnels().size()) {
    return false;
  }
  for (size_t i = 0; i < old.features.size(); ++i) {
    if (old.features[i].first != r.features()[i].key ||
        old.features[i].second != r.features()[i].sum_props) {
      return false;
    }
  }
  for (size_t i = 0; i < old.props.size(); ++i) {
    if (old.props[i] != r.props()[i].name) return false;
  }
  for (size_t i = 0; i < old.funnels.size(); ++i) {
    if (old.funnels[i] != r.funnels()[i].key) return false;
  }
  return true;
}

void RemapState(const RuleSet& rules, const std::string& old_layout, UserState* state) {
  RemapState(rules, ParsedLayout::Parse(old_layout), state);
}

void RemapState(const RuleSet& rules, const ParsedLayout& layout, UserState* state) {
  const auto& old_features = layout.features;
  const auto& old_props = layout.props;
  const auto& old_funnels = layout.funnels;
  UserState out;
  out.seq = state->seq;
  ShapeState(rules, &out);
  for (size_t o = 0; o < old_features.size() && o < state->features.size(); ++o) {
    for (size_t n = 0; n < rules.features().size(); ++n) {
      const FeatureSpec& spec = rules.features()[n];
      if (spec.key != old_features[o].first) continue;
      FeatureState& from = state->features[o];
      FeatureState& to = out.features[n];
      // Sums of properties summed before keep their values; new ones
      // start at zero.
      std::vector<int> src(spec.sum_props.size(), -1);
      for (size_t k = 0; k < spec.sum_props.size(); ++k) {
        const auto& olds = old_features[o].second;
        for (size_t j = 0; j < olds.size(); ++j) {
          if (olds[j] == spec.sum_props[k]) src[k] = static_cast<int>(j);
        }
      }
      auto remap_series = [&](const BucketSeries& a, BucketSeries* b) {
        for (size_t i = 0; i < a.size(); ++i) {
          int64_t* sums = b->Append(a.unit(i), a.count(i));
          for (size_t k = 0; k < src.size(); ++k) {
            if (src[k] >= 0) sums[k] = a.sum(i, src[k]);
          }
        }
      };
      remap_series(from.days, &to.days);
      remap_series(from.hours, &to.hours);
      to.count = from.count;
      for (size_t k = 0; k < src.size(); ++k) to.sums[k] = src[k] >= 0 ? from.sums[src[k]] : 0;
      to.active_days = std::move(from.active_days);
      to.last_ts = from.last_ts;
    }
  }
  for (size_t o = 0; o < old_props.size() && o < state->props.size(); ++o) {
    int n = rules.PropIndex(old_props[o]);
    if (n >= 0) out.props[n] = std::move(state->props[o]);
  }
  for (size_t o = 0; o < old_funnels.size() && o < state->funnels.size(); ++o) {
    for (size_t n = 0; n < rules.funnels().size(); ++n) {
      if (rules.funnels()[n].key == old_funnels[o]) out.funnels[n] = std::move(state->funnels[o]);
    }
  }
  *state = std::move(out);
}


Status PartitionEngine::Migrate(std::vector<ChangeRecord>* out) {
  if (migrate_) SEGD_RETURN_IF_ERROR(MigrateSegments(out));
  if (relist_) SEGD_RETURN_IF_ERROR(Relist(out));
  return StoreDefinitions();
}

std::shared_ptr<const ListHint> ListChangeHint(const RuleSet& from, const RuleSet& to) {
  std::string text = ListsText(from);
  if (text == ListsText(to)) return nullptr;
  return std::make_shared<const ListHint>(ListHint{std::move(text), ListChangeUsers(from, to)});
}

void PartitionEngine::HintListChange(std::shared_ptr<const ListHint> hint) {
  list_hint_ = std::move(hint);
}

// Evaluates the segments that read a changed list for the seen users the
// change concerns: those of the hint when it applies, else every user.
// Users go in user-id order either way (the store's key order), so both
// give the same records.
Status PartitionEngine::Relist(std::vector<ChangeRecord>* out) {
  auto relist = [&](uint32_t id, Loaded* u) -> Status {
    SEGD_RETURN_IF_ERROR(FirePending(id, u, out));
    Evaluate(id, u, relist_segs_, now_, ChangeCause::kList, out);
    return Reschedule(id, u, &relist_segs_, now_);
  };
  if (list_hint_ && list_hint_->from == stored_lists_) {
    for (const std::string& user : list_hint_->users) {
      auto stored = store_->GetUser(user);
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) continue;
      SEGD_RETURN_IF_ERROR(BoundCache());
      auto u = LoadUser((*stored)->id, user);
      if (!u.ok()) return u.status();
      SEGD_RETURN_IF_ERROR(relist((*stored)->id, *u));
    }
  } else {
    SEGD_RETURN_IF_ERROR(ForEachUserChunked(
        [&](int, uint32_t, std::string_view bytes, Loaded* u) -> Result<bool> {
          SEGD_RETURN_IF_ERROR(DecodeUserRecord(bytes, &u->rec));
          ShapeState(*rules_, &u->rec.state);
          return true;
        },
        relist));
  }
  relist_ = false;
  return Status::Ok();
}

Status PartitionEngine::MigrateSegments(std::vector<ChangeRecord>* out) {
  // Old segment index → new index (-1: deleted); generations that moved.
  std::vector<std::string> old_ids;
  std::map<std::string, uint32_t> old_generation;
  size_t old_live = 0;  // segments that were live, not deleted
  for (const std::string& line : Split(old_segments_, '\n')) {
    auto f = Fields(line);
    if (f.size() == 3) {
      old_ids.push_back(f[0]);
      old_generation[f[0]] = static_cast<uint32_t>(std::stoul(f[1]));
      if (f[2] != kDeletedRule) ++old_live;
    }
  }
  std::map<std::string, int> new_index;
  for (size_t i = 0; i < rules_->segments().size(); ++i) new_index[rules_->segments()[i].id] = static_cast<int>(i);
  // Changed or new segments, and everything that reads them, are evaluated.
  std::vector<bool> redo(rules_->segments().size(), false);
  for (size_t i = 0; i < rules_->segments().size(); ++i) {
    const CompiledSegment& s = rules_->segments()[i];
    auto g = old_generation.find(s.id);
    redo[i] = g == old_generation.end() || g->second != generations_[i];
    for (int dep : s.depends_on) redo[i] = redo[i] || redo[dep];
  }
  // Whose flips go out (SEMANTICS.md §5: with the changed segment's
  // emit_initial on, every flip the change causes does): a new or changed
  // segment's own emit_initial decides for it, and a segment re-evaluated
  // because it reads changed ones goes out when one of those does.
  definition_emit_.assign(rules_->segments().size(), false);
  for (size_t i = 0; i < rules_->segments().size(); ++i) {
    const CompiledSegment& s = rules_->segments()[i];
    auto g = old_generation.find(s.id);
    bool changed = g == old_generation.end() || g->second != generations_[i];
    bool emit = changed && s.emit_initial;
    for (int dep : s.depends_on) emit = emit || (redo[dep] && definition_emit_[dep]);
    definition_emit_[i] = emit;
  }
  std::vector<int> segs;
  for (size_t i = 0; i < redo.size(); ++i) {
    if (redo[i]) segs.push_back(static_cast<int>(i));
  }
  for (const std::string& id : old_ids) {
    if (new_index.count(id) == 0) {
      std::vector<uint16_t> chunks;
      SEGD_RETURN_IF_ERROR(store_->ForEachMemberChunk(id, [&](uint16_t c, std::string_view) { chunks.push_back(c); }));
      for (uint16_t c : chunks) SEGD_RETURN_IF_ERROR(store_->DeleteMemberChunk(id, c));
    }
  }
  // Segments only added after the others, each old one where it was and
  // unchanged, over a layout that at most grew at its ends: states, change
  // counts and schedules stand as they are (a state decoded under the old
  // layout, reshaped, is the carried-over one), and only the users the new
  // segments concern are written (the common case of creating a segment).
  bool same_layout = old_layout_ == LayoutText();
  ParsedLayout old_layout = ParsedLayout::Parse(old_layout_);
  bool appended = LayoutExtends(old_layout) && old_live <= rules_->segments().size();
  for (size_t i = 0; appended && i < old_live; ++i) {
    appended = old_ids[i] == rules_->segments()[i].id &&
               old_generation[old_ids[i]] == generations_[i];
  }
  if (appended) return MigrateAppended(segs, out);
  // Every user is carried over; when the plan kept the layout, states stay
  // as they are.
  SEGD_RETURN_IF_ERROR(ForEachUserChunked(
      [&](int, uint32_t, std::string_view bytes, Loaded* u) -> Result<bool> {
        u->rec = UserRecord();  // in the old layout, not one shaped to the new
        SEGD_RETURN_IF_ERROR(DecodeUserRecord(bytes, &u->rec));
        if (same_layout) {
          ShapeState(*rules_, &u->rec.state);
        } else {
          RemapState(*rules_, old_layout, &u->rec.state);
        }
        // Change counts and scheduled instants carry over within a
        // generation, by segment id; a new generation counts from 1 again
        // and is scheduled afresh. Due timers then fire only the old
        // segments, at their instants, before the new ones are evaluated
        // at now (a segment cannot change before it exists).
        auto kept = [&](uint32_t old_seg) -> int {
          if (old_seg >= old_ids.size()) return -1;
          auto it = new_index.find(old_ids[old_seg]);
          return it != new_index.end() &&
                         old_generation.at(old_ids[old_seg]) == generations_[it->second]
                     ? it->second
                     : -1;
        };
        auto carry = [&](auto* entries) {
          auto out = entries->begin();
          for (auto e : *entries) {
            int seg = kept(e.first);
            if (seg >= 0) *out++ = {static_cast<uint32_t>(seg), e.second};
          }
          entries->erase(out, entries->end());
          std::sort(entries->begin(), entries->end());
        };
        carry(&u->rec.changes);
        carry(&u->rec.next);
        return true;
      },
      [&](uint32_t id, Loaded* u) -> Status {
        // Its record is rewritten in the new layout, changed or not.
        u->dirty = true;
        SEGD_RETURN_IF_ERROR(FirePending(id, u, out));
        Evaluate(id, u, segs, now_, ChangeCause::kDefinition, out, /*definition=*/true);
        return Reschedule(id, u, nullptr, now_);
      }));
  migrate_ = false;
  return Status::Ok();
}

// One pass over stored users in key order, from a source: the users are
// read kScanGroup at a time and, while the next group is read, `take` runs
// over the group before it on the scan workers (`workers` in all, the
// reading thread included). The users of each group that `take` keeps go
// to the sink, in order. Made and run on one thread (its pool's caller).
class PartitionEngine::UserScan {
 public:
  using Source = std::function<Status(const PartitionStore::UserFn&)>;
  using Sink = std::function<void(Taken*)>;

  UserScan(int workers, const TakeFn& take)
      : take_(take),
        scratch_(static_cast<size_t>(workers)),
        verdicts_(kScanGroup),
        held_(kScanGroup),
        failed_(static_cast<size_t>(workers), {SIZE_MAX, Status::Ok()}),
        decide_([this](size_t slice, int worker) { Decide(slice, worker); }),
        pool_(workers) {
    reading_.reserve(kScanGroup);
    deciding_.reserve(kScanGroup);
  }

  // Runs `source` to its end, or until `enough` (asked before each user)
  // says to stop: `*stopped_at` is then that user, not taken yet. A user
  // that `take` fails on ends the pass with an error that names the user.
  Status Run(const Source& source, const Sink& sink, const std::function<bool()>& enough,
             std::optional<std::string>* stopped_at) {
    reading_.clear();
    deciding_.clear();
    Status bad = Status::Ok();
    Status scanned = source([&](std::string_view user, uint32_t id, std::string_view bytes) {
      if (enough()) {
        *stopped_at = std::string(user);
        return false;
      }
      reading_.push_back({user, bytes, id});
      if (reading_.size() < kScanGroup) return true;
      bad = Finish(sink);
      if (!bad.ok()) return false;
      Start();
      return true;
    });
    // The groups still in hand (their views valid: nothing written yet).
    // A failed group was finished already and is not handed over again; a
    // user that failed is reported before a later key the cursor failed on.
    Status last = Status::Ok();
    if (bad.ok()) {
      last = Finish(sink);
      if (last.ok() && !reading_.empty()) {
        Start();
        last = Finish(sink);
      }
    }
    SEGD_RETURN_IF_ERROR(bad);
    SEGD_RETURN_IF_ERROR(last);
    return scanned;
  }

 private:
  struct Entry {
    std::string_view user, bytes;
    uint32_t id;
  };
  enum Verdict : uint8_t { kLeft, kTaken, kFailed };
  static constexpr size_t kSlice = 128;  // users per job

  // A job: `take` over one slice of the group decided, on `worker`.
  void Decide(size_t slice, int worker) {
    Loaded& u = scratch_[static_cast<size_t>(worker)];
    size_t to = std::min(deciding_.size(), (slice + 1) * kSlice);
    for (size_t i = slice * kSlice; i < to; ++i) {
      const Entry& e = deciding_[i];
      u.user_id.assign(e.user);
      u.dirty = false;
      Result<bool> taken = take_(worker, e.id, e.bytes, &u);
      if (!taken.ok()) {
        verdicts_[i] = kFailed;
        auto& f = failed_[static_cast<size_t>(worker)];
        if (i < f.first) f = {i, taken.status()};
      } else if (*taken) {
        verdicts_[i] = kTaken;
        std::swap(held_[i], u);
      } else {
        verdicts_[i] = kLeft;
      }
    }
  }

  // The group read goes to the workers; the next is read meanwhile.
  void Start() {
    std::swap(reading_, deciding_);
    pool_.Start((deciding_.size() + kSlice - 1) / kSlice, decide_);
  }

  // Waits for the group being decided and hands its users taken over.
  Status Finish(const Sink& sink) {
    pool_.Finish();
    for (size_t i = 0; i < deciding_.size(); ++i) {
      if (verdicts_[i] == kFailed) {
        size_t first = SIZE_MAX;
        Status why = Status::Ok();
        for (auto& [at, st] : failed_) {
          if (at < first) std::tie(first, why) = std::tie(at, st);
        }
        return Status::Internal("user " + std::string(deciding_[first].user) + ": " +
                                why.message());
      }
      if (verdicts_[i] == kTaken) group_taken_.emplace_back(deciding_[i].id, std::move(held_[i]));
    }
    deciding_.clear();
    if (!group_taken_.empty()) sink(&group_taken_);
    group_taken_.clear();
    return Status::Ok();
  }

  const TakeFn& take_;
  std::vector<Loaded> scratch_;             // per worker: the user `take` decodes into
  std::vector<Entry> reading_, deciding_;  // the group read, the group decided
  // Per user of the group decided: the verdict, and the state of one taken.
  std::vector<Verdict> verdicts_;
  std::vector<Loaded> held_;
  // Per worker: its first failure (index in the group, error).
  std::vector<std::pair<size_t, Status>> failed_;
  Taken group_taken_;
  const std::function<void(size_t, int)> decide_;
  // Last, so destroyed (its threads joined) before what its jobs use.
  WorkerPool pool_;
};

// Users are visited in user-id order (the store's key order, so the change
// records come out in one order however the work is cut). `take` decodes
// a user into a scratch `u` and says whether the user goes on; those are
// cached, and once kMigrationChunk of them are, `work` runs on each in
// order and the cache is written back.
//
// `take` runs on the scan workers (options_.scan_workers, UserScan) and
// must therefore be safe to run on several users at once: its `worker`
// argument, below scan_workers, names what it may use alone.
//
// With several workers, and no user written yet in this transaction, the
// scan runs ahead on a thread of its own, in a read-only transaction (the
// last commit, which then holds every user as this transaction sees
// them), while this thread runs `work` and writes back the chunks it
// hands over (ScanAhead); `take` must then not read what `work` changes.
// Otherwise the scan runs in this transaction, and starts again after each
// chunk's write-back, since a write ends its views (ScanInTransaction).
// Either way what is held is bounded by a few chunks, never by the number
// of users.
Status PartitionEngine::ForEachUserChunked(const TakeFn& take, const WorkFn& work) {
  SEGD_RETURN_IF_ERROR(WriteBackCache());
  int workers = std::max(1, options_.scan_workers);
  if (workers > 1 && !store_->users_written()) {
    if (auto done = ScanAhead(workers, take, work)) return *done;
  }
  return ScanInTransaction(workers, take, work);
}

void PartitionEngine::CacheTaken(Taken* group, std::vector<uint32_t>* chunk) {
  for (auto& [id, u] : *group) {
    Loaded* slot = CacheSlot();
    std::swap(*slot, u);
    Cache(slot, id);
    chunk->push_back(id);
  }
}

Status PartitionEngine::WorkChunk(std::vector<uint32_t>* chunk, const WorkFn& work) {
  for (uint32_t id : *chunk) SEGD_RETURN_IF_ERROR(work(id, cache_.Find(id)));
  chunk->clear();
  return WriteBackCache();
}

Status PartitionEngine::ScanInTransaction(int workers, const TakeFn& take, const WorkFn& work) {
  UserScan scan(workers, take);
  std::vector<uint32_t> chunk;
  std::string from;
  while (true) {
    std::optional<std::string> next;
    SEGD_RETURN_IF_ERROR(scan.Run(
        [&](const PartitionStore::UserFn& fn) { return store_->ForEachUser(from, fn); },
        [&](Taken* group) { CacheTaken(group, &chunk); },
        [&] { return chunk.size() >= kMigrationChunk; }, &next));
    SEGD_RETURN_IF_ERROR(WorkChunk(&chunk, work));
    if (!next) return Status::Ok();
    from = std::move(*next);
  }
}

// The groups go from the scanning thread to this one through `queue` (at
// most about two chunks of users taken wait in it). The reader is made
// and ended on the scanning thread (its lock is that thread's).
std::optional<Status> PartitionEngine::ScanAhead(int workers, const TakeFn& take,
                                                 const WorkFn& work) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Taken> queue;
  size_t queued = 0;
  enum class Reading { kOpening, kOpen, kNone } reading = Reading::kOpening;
  bool done = false, stop = false;
  std::atomic<bool> stopping{false};  // `stop`, read without the lock per user
  Status scan_status = Status::Ok();
  std::thread ahead([&] {
    auto reader = store_->Read();
    {
      std::lock_guard lock(mu);
      reading = reader.ok() ? Reading::kOpen : Reading::kNone;
      cv.notify_all();
    }
    if (!reader.ok()) return;
    std::optional<std::string> unused;
    Status st;
    {
      UserScan scan(workers, take);
      st = scan.Run(
          [&](const PartitionStore::UserFn& fn) { return (*reader)->ForEachUser({}, fn); },
          [&](Taken* group) {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return stop || queued < 2 * kMigrationChunk; });
            if (stop) return;
            queued += group->size();
            queue.push_back(std::move(*group));
            cv.notify_all();
          },
          [&] { return stopping.load(std::memory_order_relaxed); }, &unused);
    }
    (*reader).reset();  // ends its transaction and lock on this thread
    std::lock_guard lock(mu);
    scan_status = st;
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return reading != Reading::kOpening; });
  }
  if (reading == Reading::kNone) {
    ahead.join();
    return std::nullopt;
  }
  std::vector<uint32_t> chunk;
  Status s = Status::Ok();
  while (s.ok()) {
    Taken group;
    bool last = false;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done || !queue.empty(); });
      if (!queue.empty()) {
        group = std::move(queue.front());
        queue.pop_front();
        queued -= group.size();
        cv.notify_all();
      }
      last = done && queue.empty();
    }
    CacheTaken(&group, &chunk);
    if (chunk.size() >= kMigrationChunk || last) s = WorkChunk(&chunk, work);
    if (last) break;
  }
  {
    std::lock_guard lock(mu);
    stop = true;
    stopping = true;
    cv.notify_all();
  }
  ahead.join();
  if (!s.ok()) return s;
  return scan_status;
}

// One read-only pass decides whom the new segments `segs` concern: a user
// who enters one (or leaves: a rule reading in_segment of an old segment
// may start true), who gets a next change instant in one, or whose own
// timers are due or unknown. Only those go through the per-user path
// (fire what is due, evaluate `segs`, schedule them) and are written;
// every other user's evaluation would flip nothing and schedule nothing,
// so their records stay as they are.
Status PartitionEngine::MigrateAppended(const std::vector<int>& segs,
                                        std::vector<ChangeRecord>* out) {
  std::vector<int> timed;
  for (int s : segs) {
    if (rules_->segments()[s].time_dependent) timed.push_back(s);
  }
  // Each scan worker evaluates with its own evaluator (calendar cache and
  // scratch) and membership bits; worker 0 is the scanning thread.
  int workers = std::max(1, options_.scan_workers);
  std::vector<std::optional<Evaluator>> evaluators(static_cast<size_t>(workers));
  for (auto& e : evaluators) e.emplace(rules_);
  std::vector<std::vector<uint8_t>> bits(static_cast<size_t>(workers),
                                         std::vector<uint8_t>(rules_->segments().size(), 0));
  // The segments read (the new ones and those they read) that have
  // members: the others are false for everyone, no lookup needed (a new
  // segment has none yet).
  std::vector<int> looked_up;
  {
    std::set<int> read;
    for (int s : segs) {
      read.insert(s);
      read.insert(rules_->segments()[s].depends_on.begin(), rules_->segments()[s].depends_on.end());
    }
    for (int s : read) {
      if (members_.Count(s) > 0) looked_up.push_back(s);
    }
  }
  // The scan may run ahead of `work`, which changes memberships: it reads a
  // copy as of the start (a user's own bits change only once the scan has
  // passed it).
  std::optional<Memberships> frozen;
  if (!looked_up.empty()) frozen.emplace(members_);
  SEGD_RETURN_IF_ERROR(ForEachUserChunked(
      [&](int worker, uint32_t id, std::string_view bytes, Loaded* u) -> Result<bool> {
        // The scratch's capacity is reused from user to user; it keeps the
        // plan's shape (a state of the old layout decodes into its first
        // elements, the rest made empty).
        UserRecord& rec = u->rec;
        SEGD_RETURN_IF_ERROR(DecodeUserRecord(bytes, &rec));
        ShapeState(*rules_, &rec.state);
        if (!rec.scheduled || (rec.timer != kNever && rec.timer <= now_)) return true;
        std::vector<uint8_t>& member = bits[static_cast<size_t>(worker)];
        for (int s : looked_up) member[s] = frozen->Contains(s, id);
        Evaluator& evaluator = *evaluators[static_cast<size_t>(worker)];
        EvalInput in{&rec.state, u->user_id, now_, &lists_, &member};
        for (int s : segs) {
          if (evaluator.Segment(s, in) != (member[s] != 0)) return true;
        }
        in.members = nullptr;
        for (int s : timed) {
          if (evaluator.NextChange(s, in) != kNever) return true;
        }
        return false;
      },
      [&](uint32_t id, Loaded* u) -> Status {
        SEGD_RETURN_IF_ERROR(FirePending(id, u, out));
        Evaluate(id, u, segs, now_, ChangeCause::kDefinition, out, /*definition=*/true);
        return Reschedule(id, u, &segs, now_);
      }));
  migrate_ = false;
  return Status::Ok();
}

Result<std::optional<StoredDefinitions>> ReadStoredDefinitions(PartitionStore::Reader& reader) {
  auto tz = reader.GetMeta(kTimezoneKey);
  auto layout = reader.GetMeta(kLayoutKey);
  auto segments = reader.GetMeta(kSegmentsKey);
  for (const auto* r : {&tz, &layout, &segments}) {
    if (!r->ok()) return r->status();
  }
  if (!tz->has_value() || !layout->has_value() || !segments->has_value()) {
    return std::optional<StoredDefinitions>();
  }
  StoredDefinitions defs{**tz, **layout, {}};
  for (const std::string& line : Split(**segments, '\n')) {
    auto f = Fields(line);
    if (f.size() != 3) continue;
    defs.segments.push_back({f[0], static_cast<uint32_t>(std::stoul(f[1])), f[2]});
  }
  return std::optional<StoredDefinitions>(std::move(defs));
}

Result<RuleSet> CompileStored(const StoredDefinitions& defs) {
  RuleFile file;
  file.timezone = defs.timezone;
  for (const StoredSegment& s : defs.segments) {
    if (s.deleted()) continue;
    SegmentDef def;
    def.id = s.id;
    def.rule = s.rule;
    file.segments.push_back(std::move(def));
  }
  std::vector<RuleError> errors, warnings;
  // The rules were accepted when stored, whatever limit applied then.
  auto rules = RuleSet::Compile(file, {1 << 30}, &errors, &warnings);
  if (!rules.ok()) {
    return Status::Internal("the rule set stored with the state does not compile: " +
                            rules.status().message());
  }
  return rules;
}

}  // namespace segd::rules
