// segd_bench_consume: baseline (a) of the end-to-end benchmark — a plain
// librdkafka consumer that reads a topic from the beginning to its end and
// discards every record: the most a consumer of that topic can read here.
//
//   segd_bench_consume --brokers B --topic T [--group G]
//
// Joins a fresh consumer group (subscribe, as segd does, read_committed,
// offsets not committed) and stops once every partition has reached the
// high watermark it had at start. Prints one JSON object: records, bytes,
// seconds from start (the group join included, as in segd's figure),
// seconds from the first record, and records/s over each.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void Set(rd_kafka_conf_t* conf, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "segd_bench_consume: %s=%s: %s\n", k, v.c_str(), err);
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string brokers, topic, group;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--brokers") brokers = argv[i + 1];
    else if (a == "--topic") topic = argv[i + 1];
    else if (a == "--group") group = argv[i + 1];
  }
  if (brokers.empty() || topic.empty()) {
    std::fprintf(stderr, "usage: segd_bench_consume --brokers B --topic T [--group G]\n");
    return 2;
  }
  if (group.empty()) group = "segd-bench-consume-" + std::to_string(::time(nullptr));
  auto start = std::chrono::steady_clock::now();
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", brokers);
  Set(conf, "group.id", group);
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "auto.offset.reset", "earliest");
  Set(conf, "isolation.level", "read_committed");
  Set(conf, "enable.partition.eof", "true");
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "segd_bench_consume: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);

  // The end: each partition's high watermark now.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1 || md->topics[0].err) {
    std::fprintf(stderr, "segd_bench_consume: no metadata for %s\n", topic.c_str());
    return 1;
  }
  std::map<int, int64_t> end;
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    int p = md->topics[0].partitions[i].id;
    int64_t lo = 0, hi = 0;
    rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000);
    if (hi > lo) end[p] = hi;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);

  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);

  uint64_t records = 0, bytes = 0;
  double first = -1;
  while (!end.empty()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 1000);
    if (m == nullptr) {
      if (Since(start) > 600) {
        std::fprintf(stderr, "segd_bench_consume: timed out\n");
        return 1;
      }
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (first < 0) first = Since(start);
      ++records;
      bytes += m->len + m->key_len;
      auto it = end.find(m->partition);
      if (it != end.end() && m->offset + 1 >= it->second) end.erase(it);
    } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      auto it = end.find(m->partition);
      if (it != end.end() && m->offset >= it->second) end.erase(it);
    } else {
      std::fprintf(stderr, "segd_bench_consume: %s\n", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }
  double secs = Since(start);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::printf(
      "{\"records\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"first_record_s\":%.3f,"
      "\"records_per_s\":%.0f,\"records_per_s_after_first\":%.0f}\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(bytes), secs,
      first, static_cast<double>(records) / secs,
      static_cast<double>(records) / (secs - (first < 0 ? 0 : first)));
  return 0;
}
