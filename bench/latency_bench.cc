// segd_bench_latency: the external latency probe of the end-to-end
// benchmarks. While it produces a steady load into segd's input topic, it
// produces a probe every few milliseconds — a record of a user never seen
// before whose first record puts it into a segment at once (bench/rules.yaml:
// `signup_done` enters `new_user`) — and a read_committed consumer of segd's
// output topic notes when each probe's enter record becomes visible. The
// latency of a probe is (seen by the consumer) − (handed to the producer),
// one process and one steady clock for both: what a downstream reader of
// segd's output waits for, the input producer's own delivery included (that
// part is reported apart, as produce → acknowledged).
//
//   segd_bench_latency --brokers B --input T --output O --lines FILE
//       [--rate 20000] [--seconds 60] [--probe-every-ms 10] [--probe-segment new_user]
//       [--ts-start MS] [--count SEGMENT:CHANGE:N] [--settle-s 30] [--linger-ms 1]
//       [--fetch-wait-ms 5] [--probes-out FILE]
//
// FILE holds load records as segd_loadgen --keyed writes them ("KEY<TAB>JSON"),
// used in turn (from the start again when they run out). Each record's "ts"
// is rewritten to ts-start + the time elapsed since the start (ts-start
// defaults to the wall clock at start, so a wall-clock segd sees a live
// stream; an event-clock segd sees its clock run from ts-start in step with
// the wall clock). Probes carry the same ts.
//
// --count SEGMENT:CHANGE:N also counts output records of SEGMENT with
// CHANGE and reports when the N-th was seen (the midnight flip: when every
// leave record is out), in seconds from the first record produced.
//
// --probes-out FILE writes one line per probe: when it was produced (ms from
// the start), its latency and its produce → ack time (ms; -1 if never seen),
// to line a tail up with a trace of the daemon.
//
// Prints one JSON object with the figures (milliseconds).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string brokers, input, output, lines_path;
  double rate = 20000;
  double seconds = 60;
  int probe_every_ms = 10;
  std::string probe_segment = "new_user";
  std::string probe_event = "signup_done";
  int64_t ts_start = -1;
  std::string count_segment, count_change;
  uint64_t count_target = 0;
  double settle_s = 30;
  std::string linger_ms = "1";
  std::string probes_out;
  std::string fetch_wait_ms = "5";
};

void Set(rd_kafka_conf_t* conf, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "segd_bench_latency: %s=%s: %s\n", k, v.c_str(), err);
    std::exit(2);
  }
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Shared between the producer (main) thread, its delivery callback and the
// consumer thread.
struct Probes {
  std::mutex mu;
  std::vector<Clock::time_point> sent, acked, seen;
};

Probes probes;
Clock::time_point kNever = Clock::time_point::min();

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto now = Clock::now();
  auto id = reinterpret_cast<uintptr_t>(m->_private);
  if (id == 0) return;
  if (m->err) {
    std::fprintf(stderr, "segd_bench_latency: probe %zu not delivered: %s\n",
                 static_cast<size_t>(id - 1), rd_kafka_err2str(m->err));
    return;
  }
  std::lock_guard lock(probes.mu);
  if (id - 1 < probes.acked.size()) probes.acked[id - 1] = now;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string Summary(const std::vector<double>& v) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "{\"n\":%zu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                v.size(), Percentile(v, 0.5), Percentile(v, 0.9), Percentile(v, 0.99),
                v.empty() ? -1.0 : *std::max_element(v.begin(), v.end()));
  return buf;
}

// The text between `"name":"` and the next quote, or empty.
std::string_view Field(std::string_view json, std::string_view name) {
  std::string key = "\"" + std::string(name) + "\":\"";
  size_t at = json.find(key);
  if (at == std::string_view::npos) return {};
  at += key.size();
  size_t end = json.find('"', at);
  return end == std::string_view::npos ? std::string_view{} : json.substr(at, end - at);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--brokers") o.brokers = v;
    else if (a == "--input") o.input = v;
    else if (a == "--output") o.output = v;
    else if (a == "--lines") o.lines_path = v;
    else if (a == "--rate") o.rate = std::atof(v.c_str());
    else if (a == "--seconds") o.seconds = std::atof(v.c_str());
    else if (a == "--probe-every-ms") o.probe_every_ms = std::atoi(v.c_str());
    else if (a == "--probe-segment") o.probe_segment = v;
    else if (a == "--probe-event") o.probe_event = v;
    else if (a == "--ts-start") o.ts_start = std::strtoll(v.c_str(), nullptr, 10);
    else if (a == "--settle-s") o.settle_s = std::atof(v.c_str());
    else if (a == "--linger-ms") o.linger_ms = v;
    else if (a == "--probes-out") o.probes_out = v;
    else if (a == "--fetch-wait-ms") o.fetch_wait_ms = v;
    else if (a == "--count") {
      size_t c1 = v.find(':'), c2 = v.rfind(':');
      if (c1 == std::string::npos || c2 == c1) {
        std::fprintf(stderr, "--count SEGMENT:CHANGE:N\n");
        return 2;
      }
      o.count_segment = v.substr(0, c1);
      o.count_change = v.substr(c1 + 1, c2 - c1 - 1);
      o.count_target = std::strtoull(v.c_str() + c2 + 1, nullptr, 10);
    } else {
      std::fprintf(stderr, "segd_bench_latency: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.brokers.empty() || o.input.empty() || o.output.empty() || o.lines_path.empty()) {
    std::fprintf(stderr,
                 "usage: segd_bench_latency --brokers B --input T --output O --lines FILE ...\n");
    return 2;
  }
  // Load records: key and the JSON split around the ts digits.
  struct Line {
    std::string key, before, after;
  };
  std::vector<Line> lines;
  {
    std::ifstream in(o.lines_path);
    std::string text;
    while (std::getline(in, text)) {
      size_t tab = text.find('\t');
      size_t ts = text.find("\"ts\":", tab);
      if (tab == std::string::npos || ts == std::string::npos) continue;
      ts += 5;
      size_t end = text.find_first_not_of("0123456789", ts);
      lines.push_back({text.substr(0, tab), text.substr(tab + 1, ts - tab - 1), text.substr(end)});
    }
  }
  if (lines.empty()) {
    std::fprintf(stderr, "segd_bench_latency: no records in %s\n", o.lines_path.c_str());
    return 1;
  }
  char errstr[512];
  std::string prefix = "p" + std::to_string(WallMs() % 100000000) + "-";

  // The output consumer, positioned at each partition's end before
  // anything is produced.
  rd_kafka_conf_t* cconf = rd_kafka_conf_new();
  Set(cconf, "bootstrap.servers", o.brokers);
  Set(cconf, "group.id", prefix + "reader");
  Set(cconf, "enable.auto.commit", "false");
  Set(cconf, "isolation.level", "read_committed");
  Set(cconf, "fetch.wait.max.ms", o.fetch_wait_ms);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof(errstr));
  if (consumer == nullptr) {
    std::fprintf(stderr, "segd_bench_latency: %s\n", errstr);
    return 1;
  }
  rd_kafka_poll_set_consumer(consumer);
  {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(consumer, o.output.c_str(), nullptr);
    if (rd_kafka_metadata(consumer, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1 || md->topics[0].err) {
      std::fprintf(stderr, "segd_bench_latency: no metadata for %s\n", o.output.c_str());
      return 1;
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      int p = md->topics[0].partitions[i].id;
      int64_t lo = 0, hi = 0;
      rd_kafka_query_watermark_offsets(consumer, o.output.c_str(), p, &lo, &hi, 10000);
      rd_kafka_topic_partition_list_add(parts, o.output.c_str(), p)->offset = hi;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_assign(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
  }

  rd_kafka_conf_t* pconf = rd_kafka_conf_new();
  Set(pconf, "bootstrap.servers", o.brokers);
  Set(pconf, "linger.ms", o.linger_ms);
  Set(pconf, "partitioner", "murmur2_random");
  Set(pconf, "queue.buffering.max.messages", "1000000");
  rd_kafka_conf_set_dr_msg_cb(pconf, OnDelivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof(errstr));
  if (producer == nullptr) {
    std::fprintf(stderr, "segd_bench_latency: %s\n", errstr);
    return 1;
  }

  size_t n_probes = static_cast<size_t>(o.seconds * 1000 / o.probe_every_ms) + 1;
  probes.sent.assign(n_probes, kNever);
  probes.acked.assign(n_probes, kNever);
  probes.seen.assign(n_probes, kNever);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> counted{0};
  std::atomic<uint64_t> output_records{0};
  Clock::time_point start;  // set before the consumer thread reads it
  Clock::time_point count_done = kNever;
  std::atomic<bool> started{false};

  std::thread reader([&] {
    while (!stop) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
      if (m == nullptr) continue;
      auto now = Clock::now();
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != nullptr) {
        ++output_records;
        std::string_view v(static_cast<const char*>(m->payload), m->len);
        std::string_view user = Field(v, "user_id");
        if (user.size() > prefix.size() && user.substr(0, prefix.size()) == prefix &&
            Field(v, "segment") == o.probe_segment && Field(v, "change") == "enter") {
          size_t id = std::strtoull(std::string(user.substr(prefix.size())).c_str(), nullptr, 10);
          std::lock_guard lock(probes.mu);
          if (id < probes.seen.size() && probes.seen[id] == kNever) probes.seen[id] = now;
        }
        if (o.count_target > 0 && Field(v, "segment") == o.count_segment &&
            Field(v, "change") == o.count_change) {
          if (++counted == o.count_target && started) count_done = now;
        }
      } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "segd_bench_latency: output: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  });

  // Produce: the load at `rate`, a probe every probe_every_ms.
  start = Clock::now();
  started = true;
  int64_t wall_start = WallMs();
  int64_t ts_start = o.ts_start >= 0 ? o.ts_start : wall_start;
  uint64_t sent = 0;
  size_t next_probe = 0;
  std::string value;
  auto produce = [&](const std::string& key, const std::string& v, uintptr_t opaque) {
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(o.input.c_str()),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(opaque)),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "segd_bench_latency: produce: %s\n", rd_kafka_err2str(err));
        std::exit(1);
      }
      rd_kafka_poll(producer, 10);
    }
  };
  while (true) {
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (elapsed >= o.seconds) break;
    int64_t ts = ts_start + static_cast<int64_t>(elapsed * 1000);
    auto due = static_cast<uint64_t>(elapsed * o.rate);
    while (sent < due) {
      const Line& l = lines[sent % lines.size()];
      value.assign(l.before).append(std::to_string(ts)).append(l.after);
      produce(l.key, value, 0);
      ++sent;
    }
    if (next_probe < n_probes &&
        elapsed * 1000 >= static_cast<double>(next_probe) * o.probe_every_ms) {
      std::string user = prefix + std::to_string(next_probe);
      value = "{\"user_id\":\"" + user + "\",\"ts\":" + std::to_string(ts) + ",\"event\":\"" +
              o.probe_event + "\"}";
      {
        std::lock_guard lock(probes.mu);
        probes.sent[next_probe] = Clock::now();
      }
      produce(user, value, next_probe + 1);
      ++next_probe;
    }
    rd_kafka_poll(producer, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  double produce_s = std::chrono::duration<double>(Clock::now() - start).count();
  rd_kafka_flush(producer, 30000);

  // Wait for the probes (and the counted records) to come out.
  auto settle_until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.settle_s * 1000));
  while (Clock::now() < settle_until) {
    bool all = true;
    {
      std::lock_guard lock(probes.mu);
      for (size_t i = 0; i < next_probe && all; ++i) all = probes.seen[i] != kNever;
    }
    if (all && counted >= o.count_target) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  reader.join();

  if (!o.probes_out.empty()) {
    std::lock_guard lock(probes.mu);
    FILE* f = std::fopen(o.probes_out.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "segd_bench_latency: cannot write %s\n", o.probes_out.c_str());
      return 1;
    }
    for (size_t i = 0; i < next_probe; ++i) {
      std::fprintf(f, "%.1f %.1f %.1f\n", Ms(start, probes.sent[i]),
                   probes.seen[i] == kNever ? -1.0 : Ms(probes.sent[i], probes.seen[i]),
                   probes.acked[i] == kNever ? -1.0 : Ms(probes.sent[i], probes.acked[i]));
    }
    std::fclose(f);
  }
  std::vector<double> total, acked, after_ack, during;
  size_t missing = 0;
  {
    std::lock_guard lock(probes.mu);
    for (size_t i = 0; i < next_probe; ++i) {
      if (probes.seen[i] == kNever) {
        ++missing;
        continue;
      }
      total.push_back(Ms(probes.sent[i], probes.seen[i]));
      // Probes sent before the last counted record was seen: the
      // latency of other records while the counted ones come out.
      if (count_done != kNever && probes.sent[i] <= count_done) {
        during.push_back(Ms(probes.sent[i], probes.seen[i]));
      }
      if (probes.acked[i] != kNever) {
        acked.push_back(Ms(probes.sent[i], probes.acked[i]));
        after_ack.push_back(Ms(probes.acked[i], probes.seen[i]));
      }
    }
  }
  std::printf(
      "{\"records\":%llu,\"produce_s\":%.2f,\"rate\":%.0f,\"probes\":%zu,\"missing\":%zu,"
      "\"output_records\":%llu,\"latency_ms\":%s,\"produce_to_ack_ms\":%s,"
      "\"ack_to_seen_ms\":%s,\"ts_start\":%lld",
      static_cast<unsigned long long>(sent), produce_s, static_cast<double>(sent) / produce_s,
      next_probe, missing, static_cast<unsigned long long>(output_records.load()),
      Summary(total).c_str(), Summary(acked).c_str(), Summary(after_ack).c_str(),
      static_cast<long long>(ts_start));
  if (o.count_target > 0) {
    std::printf(",\"counted\":%llu,\"count_done_s\":%.3f,\"during_count_ms\":%s",
                static_cast<unsigned long long>(counted.load()),
                count_done == kNever ? -1.0 : Ms(start, count_done) / 1000,
                Summary(during).c_str());
  }
  // p50/p99 per 10 s of the run: where in the run the tail is.
  std::printf(",\"by_10s\":[");
  for (size_t w = 0; w * 10000 < static_cast<size_t>(o.seconds * 1000); ++w) {
    std::vector<double> v;
    for (size_t i = 0; i < next_probe; ++i) {
      double at = Ms(start, probes.sent[i]);
      if (probes.seen[i] != kNever && at >= static_cast<double>(w) * 10000 &&
          at < static_cast<double>(w + 1) * 10000) {
        v.push_back(Ms(probes.sent[i], probes.seen[i]));
      }
    }
    std::printf("%s%s", w ? "," : "", Summary(v).c_str());
  }
  std::printf("]}\n");
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  rd_kafka_destroy(producer);
  return 0;
}
