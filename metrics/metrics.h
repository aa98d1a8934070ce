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
#include <vector>

namespace segd {

// Observations of one histogram gathered without locking, added to it with
// one ObserveMultiple: per batch instead of per record.
class HistogramTally {
 public:
  explicit HistogramTally(const prometheus::Histogram::BucketBoundaries& bounds);
  void Observe(double value, uint64_t times = 1);
  // Adds the observations to `h` (built with the same boundaries) and resets.
  void FlushTo(prometheus::Histogram& h);

 private:
  const prometheus::Histogram::BucketBoundaries* bounds_;
  std::vector<double> counts_;  // per bucket, the last one +Inf
  double sum_ = 0;
};

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
  prometheus::Gauge& Members(const std::string& segment, const std::string& topic, int partition);
  // Removes a segment's member gauges (the segment was deleted).
  void RemoveMembers(prometheus::Gauge* gauge);
  // Kafka transactions by result: committed, aborted, fatal.
  prometheus::Counter& Transactions(const std::string& result);
  // Partition restores from the changelog, by kind (full, tail), and the
  // changelog records they applied.
  prometheus::Counter& Restores(const std::string& kind);
  prometheus::Counter& RestoredRecords() { return *restored_records_; }
  // Standby copies kept (standby_replicas), and changelog records they applied.
  prometheus::Gauge& StandbyPartitions() { return *standby_partitions_; }
  prometheus::Counter& StandbyRecords() { return *standby_records_; }
  // Records per batch.
  prometheus::Histogram& BatchRecords() { return *batch_records_; }
  // Seconds from a batch's first record read to its Kafka commit.
  prometheus::Histogram& BatchSeconds() { return *batch_seconds_; }
  // The boundaries of the two latency histograms, for HistogramTally.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
  // Seconds from a record's arrival at segd to the Kafka commit of its batch.
  prometheus::Histogram& ProcessingSeconds() { return *processing_seconds_; }
  // Seconds from a record's Kafka timestamp to the Kafka commit of its batch.
  prometheus::Histogram& EndToEndSeconds() { return *end_to_end_seconds_; }
  // Due timers fired (time-caused re-evaluations of one user).
  prometheus::Counter& TimersFired() { return *timers_fired_; }
  // Batches that could not be committed to LMDB (map at its limit, disk full).
  prometheus::Counter& StorageErrors() { return *storage_errors_; }
  // 1 while some partition cannot commit for lack of space.
  prometheus::Gauge& StorageFull() { return *storage_full_; }
  // Assigned partitions whose fetching is paused (backpressure, storage full).
  prometheus::Gauge& PartitionsPaused() { return *partitions_paused_; }
  // The configured LMDB map size limit per partition.
  prometheus::Gauge& LmdbMapLimit() { return *lmdb_map_limit_; }
  // 1 while segd is consuming and committing, 0 otherwise.
  prometheus::Gauge& Ready() { return *ready_; }

  // The gauges of one assigned input partition.
  struct PartitionGauges {
    prometheus::Gauge* lag;            // records in Kafka past the partition's position
    prometheus::Gauge* outbox;         // outbox entries not yet delivered
    prometheus::Gauge* timers;         // users with a scheduled timer
    prometheus::Gauge* timers_due;     // timers due and not yet fired (a backlog)
    prometheus::Gauge* users;          // users seen
    prometheus::Gauge* map_used;       // LMDB bytes in use
    prometheus::Gauge* map_size;       // LMDB map size (file size, preallocated)
  };
  PartitionGauges AddPartition(const std::string& topic, int partition);
  // Removes them when the partition is revoked or lost.
  void RemovePartition(const PartitionGauges& gauges);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* records_in_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Counter* ignored_values_;
  prometheus::Family<prometheus::Counter>* changes_;
  prometheus::Family<prometheus::Gauge>* members_;
  prometheus::Family<prometheus::Counter>* transactions_;
  prometheus::Family<prometheus::Counter>* restores_;
  prometheus::Counter* restored_records_;
  prometheus::Gauge* standby_partitions_;
  prometheus::Counter* standby_records_;
  prometheus::Histogram* batch_records_;
  prometheus::Histogram* batch_seconds_;
  prometheus::Histogram* processing_seconds_;
  prometheus::Histogram* end_to_end_seconds_;
  prometheus::Counter* timers_fired_;
  prometheus::Counter* storage_errors_;
  prometheus::Gauge* storage_full_;
  prometheus::Gauge* partitions_paused_;
  prometheus::Gauge* lmdb_map_limit_;
  prometheus::Family<prometheus::Gauge>* lag_;
  prometheus::Family<prometheus::Gauge>* outbox_;
  prometheus::Family<prometheus::Gauge>* timers_;
  prometheus::Family<prometheus::Gauge>* timers_due_;
  prometheus::Family<prometheus::Gauge>* users_;
  prometheus::Family<prometheus::Gauge>* map_used_;
  prometheus::Family<prometheus::Gauge>* map_size_;
  prometheus::Gauge* ready_;
};

}  // namespace segd
