// Small JSON output helpers shared by logs and change records.
#pragma once

#include <string>
#include <string_view>

namespace segd {

// Appends `s` as a JSON string literal (quotes included). `s` is UTF-8; control
// characters are escaped as \u00XX, everything else is copied.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace segd
