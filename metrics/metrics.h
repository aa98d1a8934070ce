// segd's Prometheus metrics: one registry, every family registered here.
//
// Names follow `segd_<name>_<base unit>`, `_total` on counters; label values
// are bounded (reasons, segment ids, partitions). Hot paths hold the metric
// objects returned here and update them once per batch, never look them up
// per record.
//
// Thread-safety: prometheus-cpp metric objects are thread-safe; the lookup
// helpers take the family's lock and are meant for setup, not per record.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace segd {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The Prometheus text exposition of every metric (for /metrics).
  std::string Serialize() const;

  // Records read from the input, accepted or not.
  prometheus::Counter& RecordsIn() { return *records_in_; }
  // Records refused, by SEMANTICS.md §1 reason (stream::ReasonName).
  prometheus::Counter& RecordsRejected(const std::string& reason);
  // Nested objects, arrays and nulls dropped from props/set (not an error).
  prometheus::Counter& IgnoredValues() { return *ignored_values_; }
  // Change records emitted, by segment and direction ("enter"/"leave").
  prometheus::Counter& Changes(const std::string& segment, const std::string& change);
  // Members of a segment in one input partition; sum by (segment) for the total.
  prometheus::Gauge& Members(const std::string& segment, int partition);
  // Kafka transactions by result: committed, aborted, retried.
  prometheus::Counter& Transactions(const std::string& result);
  // Records per batch.
  prometheus::Histogram& BatchRecords() { return *batch_records_; }
  // Seconds from a batch's first record read to its Kafka commit.
  prometheus::Histogram& BatchSeconds() { return *batch_seconds_; }
  // 1 while segd is consuming and committing, 0 otherwise.
  prometheus::Gauge& Ready() { return *ready_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* records_in_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Counter* ignored_values_;
  prometheus::Family<prometheus::Counter>* changes_;
  prometheus::Family<prometheus::Gauge>* members_;
  prometheus::Family<prometheus::Counter>* transactions_;
  prometheus::Histogram* batch_records_;
  prometheus::Histogram* batch_seconds_;
  prometheus::Gauge* ready_;
};

}  // namespace segd
