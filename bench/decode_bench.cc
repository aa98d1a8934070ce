// Baseline (b): decoding only. Reads JSON lines and decodes each with
// segd's RecordDecoder, nothing else; prints records/s.
//
//   segd_bench_decode FILE
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "stream/record_decoder.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: segd_bench_decode FILE\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  segd::RecordDecoder decoder;
  segd::Record record;
  segd::MessageContext ctx;
  size_t ok = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& line : lines) ok += !decoder.Decode(line, ctx, &record).has_value();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"records\":%zu,\"accepted\":%zu,\"seconds\":%.3f,\"records_per_s\":%.0f}\n",
              lines.size(), ok, secs, static_cast<double>(lines.size()) / secs);
  return 0;
}
