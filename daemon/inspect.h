// `segd inspect user` and `segd export`: read-only looks at a data folder,
// safe while segd runs on it (the LMDB environments are opened read-only;
// readers never block the writer). The folder is one partition store or a
// data_dir of `<topic>-<partition>` stores.
#pragma once

#include <iosfwd>
#include <string>

namespace segd {

struct InspectOptions {
  std::string user;
  std::string data_dir;
  // The rule file to read the state with, with the admin API's segments
  // and uploaded lists from the data_dir's catalog.json when there is one;
  // empty: the rule set stored with each partition's state (no lists:
  // in_list is false).
  std::string rules_path;
  std::string explain;  // a segment id: explain it; empty: describe the user
  bool json = false;
  int max_window_days = 400;
};

// Prints the user's report (or the explanation) for each partition that
// holds the user. Exit code: 0 found, 1 not found or an error, 2 bad
// arguments (unknown segment, refused rule file).
int RunInspectUser(const InspectOptions& options, std::ostream& out, std::ostream& err);

struct ExportOptions {
  std::string segment;
  std::string data_dir;
  std::string format = "csv";  // csv (header user_id) or jsonl ({"user_id":...})
};

// Writes the stored members of `segment`, one per line: partition by
// partition (by topic, then partition number), in user id (byte) order
// within each. Exit code: 0, 1 on an error, 2 for a segment no partition
// defines.
int RunExport(const ExportOptions& options, std::ostream& out, std::ostream& err);

}  // namespace segd
