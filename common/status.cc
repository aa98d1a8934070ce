#include "common/status.h"

namespace segd {

namespace {
const char* CodeName(Status::Code c) {
  switch (c) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kAlreadyExists: return "already exists";
    case Status::Code::kFailedPrecondition: return "failed precondition";
    case Status::Code::kResourceExhausted: return "resource exhausted";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kAborted: return "aborted";
    case Status::Code::kFatal: return "fatal";
    case Status::Code::kInternal: return "internal";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace segd
