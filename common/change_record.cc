#include "common/change_record.h"

#include <fmt/format.h>

#include "common/json.h"

namespace segd {

const char* ChangeKindName(ChangeKind k) { return k == ChangeKind::kEnter ? "enter" : "leave"; }

const char* ChangeCauseName(ChangeCause c) {
  switch (c) {
    case ChangeCause::kEvent: return "event";
    case ChangeCause::kTime: return "time";
    case ChangeCause::kDefinition: return "definition";
    case ChangeCause::kList: return "list";
  }
  return "event";
}

std::string ChangeRecord::Id() const {
  return fmt::format("{}:{}:{}:{}", segment, generation, n, user_id);
}

std::string ChangeRecord::ToJson() const {
  std::string out;
  out.reserve(96 + 2 * user_id.size() + 2 * segment.size());
  out.append("{\"id\":");
  AppendJsonString(&out, Id());
  out.append(",\"user_id\":");
  AppendJsonString(&out, user_id);
  out.append(",\"segment\":");
  AppendJsonString(&out, segment);
  out.append(",\"change\":\"").append(ChangeKindName(change));
  out.append("\",\"at\":").append(fmt::format("{}", at_ms));
  out.append(",\"cause\":\"").append(ChangeCauseName(cause)).append("\"}");
  return out;
}

}  // namespace segd
