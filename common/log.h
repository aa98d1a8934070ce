// One-line structured logs: a capitalized message plus key=value fields.
//
//   LogInfo("Partition assigned", {{"topic", topic}, {"partition", 3}});
//   → 2026-11-23T18:50:22.123Z INFO Partition assigned topic=events partition=3
//
// With JSON selected (SetLogFormat), the same line is one JSON object with
// "ts", "level", "msg" and the fields. Written by spdlog to stderr;
// thread-safe.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace segd {

struct LogField {
  template <typename T>
  LogField(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  std::string_view key;
  std::string value;
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// Configures the process-wide logger (stderr). Call once at start.
void SetLogFormat(LogFormat format);
void SetLogLevel(LogLevel level);
// Parses "debug", "info", "warn", "error"; false if unknown.
bool ParseLogLevel(std::string_view text, LogLevel* out);

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, m, f);
}
inline void LogInfo(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, m, f);
}
inline void LogWarn(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarn, m, f);
}
inline void LogError(std::string_view m, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, m, f);
}

// Formats the part of a line after the level: "msg k=v ..." as text, or
// "\"msg\":...,\"k\":\"v\"" as the inside of a JSON object. For tests.
std::string FormatLogBody(LogFormat format, std::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace segd
