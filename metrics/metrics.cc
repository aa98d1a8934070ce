#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace segd {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

HistogramTally::HistogramTally(const prometheus::Histogram::BucketBoundaries& bounds)
    : bounds_(&bounds), counts_(bounds.size() + 1, 0) {}

void HistogramTally::Observe(double value, uint64_t times) {
  size_t bucket = std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin();
  counts_[bucket] += static_cast<double>(times);
  sum_ += value * static_cast<double>(times);
}

void HistogramTally::FlushTo(prometheus::Histogram& h) {
  double n = 0;
  for (double c : counts_) n += c;
  if (n == 0) return;
  h.ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0);
  sum_ = 0;
}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  records_in_ = &BuildCounter()
                     .Name("segd_records_total")
                     .Help("Input records read, valid or not")
                     .Register(r)
                     .Add({});
  rejected_ = &BuildCounter()
                   .Name("segd_records_rejected_total")
                   .Help("Input records sent to the dead-letter topic, by reason")
                   .Register(r);
  ignored_values_ = &BuildCounter()
                         .Name("segd_ignored_values_total")
                         .Help("Nested objects, arrays and nulls dropped from props and set")
                         .Register(r)
                         .Add({});
  changes_ = &BuildCounter()
                  .Name("segd_changes_total")
                  .Help("Change records emitted, by segment and change (enter/leave)")
                  .Register(r);
  members_ = &BuildGauge()
                  .Name("segd_segment_members")
                  .Help("Members of a segment in one input partition")
                  .Register(r);
  transactions_ = &BuildCounter()
                       .Name("segd_kafka_transactions_total")
                       .Help("Kafka transactions, by result (committed, aborted, fatal)")
                       .Register(r);
  restores_ = &BuildCounter()
                   .Name("segd_changelog_restores_total")
                   .Help("Partitions restored from their changelog, by kind (full: from the "
                         "beginning; tail: onto a local copy, from where it ends)")
                   .Register(r);
  restored_records_ = &BuildCounter()
                           .Name("segd_changelog_restored_records_total")
                           .Help("Changelog records applied by restores")
                           .Register(r)
                           .Add({});
  standby_partitions_ = &BuildGauge()
                             .Name("segd_standby_partitions")
                             .Help("Partitions of other instances this one keeps a standby copy of")
                             .Register(r)
                             .Add({});
  standby_records_ = &BuildCounter()
                          .Name("segd_standby_records_total")
                          .Help("Changelog records applied to standby copies")
                          .Register(r)
                          .Add({});
  batch_records_ =
      &BuildHistogram()
           .Name("segd_batch_records")
           .Help("Input records per batch")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 1000, 10000, 100000});
  batch_seconds_ = &BuildHistogram()
                        .Name("segd_batch_duration_seconds")
                        .Help("Seconds from a batch's first record to its Kafka commit")
                        .Register(r)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
  const auto& latency = LatencyBuckets();
  processing_seconds_ =
      &BuildHistogram()
           .Name("segd_processing_latency_seconds")
           .Help("Seconds from a record's arrival at segd to the Kafka commit of its batch")
           .Register(r)
           .Add({}, latency);
  end_to_end_seconds_ =
      &BuildHistogram()
           .Name("segd_end_to_end_latency_seconds")
           .Help("Seconds from a record's Kafka timestamp to the Kafka commit of its batch")
           .Register(r)
           .Add({}, latency);
  timers_fired_ = &BuildCounter()
                       .Name("segd_timers_fired_total")
                       .Help("Due timers fired: time-caused re-evaluations of one user")
                       .Register(r)
                       .Add({});
  storage_errors_ = &BuildCounter()
                         .Name("segd_storage_errors_total")
                         .Help("Batches not committed to LMDB: map at its limit or disk full")
                         .Register(r)
                         .Add({});
  storage_full_ = &BuildGauge()
                       .Name("segd_storage_full")
                       .Help("1 while some partition cannot commit for lack of space")
                       .Register(r)
                       .Add({});
  partitions_paused_ = &BuildGauge()
                            .Name("segd_partitions_paused")
                            .Help("Assigned partitions paused by backpressure or a full store")
                            .Register(r)
                            .Add({});
  lmdb_map_limit_ = &BuildGauge()
                         .Name("segd_lmdb_map_limit_bytes")
                         .Help("Largest LMDB map a partition may grow to (lmdb.max_map_bytes)")
                         .Register(r)
                         .Add({});
  lag_ = &BuildGauge()
              .Name("segd_consumer_lag_records")
              .Help("Records in the input partition past segd's position")
              .Register(r);
  outbox_ = &BuildGauge()
                 .Name("segd_outbox_entries")
                 .Help("Change records and dead letters not yet delivered to Kafka")
                 .Register(r);
  timers_ = &BuildGauge()
                 .Name("segd_timers")
                 .Help("Users with a scheduled timer (a time-caused change ahead)")
                 .Register(r);
  timers_due_ = &BuildGauge()
                     .Name("segd_timers_due")
                     .Help("Timers due and not yet fired (a backlog being worked off)")
                     .Register(r);
  users_ = &BuildGauge().Name("segd_users").Help("Users seen in the partition").Register(r);
  map_used_ = &BuildGauge()
                   .Name("segd_lmdb_map_used_bytes")
                   .Help("LMDB bytes in use (pages of the last commit)")
                   .Register(r);
  map_size_ = &BuildGauge()
                   .Name("segd_lmdb_map_size_bytes")
                   .Help("LMDB map size (the preallocated file)")
                   .Register(r);
  ready_ = &BuildGauge()
                .Name("segd_ready")
                .Help("1 while segd consumes and commits, 0 otherwise")
                .Register(r)
                .Add({});
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

prometheus::Counter& Metrics::RecordsRejected(const std::string& reason) {
  return rejected_->Add({{"reason", reason}});
}

prometheus::Counter& Metrics::Changes(const std::string& segment, const std::string& change) {
  return changes_->Add({{"segment", segment}, {"change", change}});
}

prometheus::Gauge& Metrics::Members(const std::string& segment, const std::string& topic,
                                    int partition) {
  return members_->Add(
      {{"segment", segment}, {"topic", topic}, {"partition", std::to_string(partition)}});
}

void Metrics::RemoveMembers(prometheus::Gauge* gauge) { members_->Remove(gauge); }

Metrics::PartitionGauges Metrics::AddPartition(const std::string& topic, int partition) {
  prometheus::Labels labels{{"topic", topic}, {"partition", std::to_string(partition)}};
  return {&lag_->Add(labels),     &outbox_->Add(labels),   &timers_->Add(labels),
          &timers_due_->Add(labels), &users_->Add(labels), &map_used_->Add(labels),
          &map_size_->Add(labels)};
}

void Metrics::RemovePartition(const PartitionGauges& g) {
  lag_->Remove(g.lag);
  outbox_->Remove(g.outbox);
  timers_->Remove(g.timers);
  timers_due_->Remove(g.timers_due);
  users_->Remove(g.users);
  map_used_->Remove(g.map_used);
  map_size_->Remove(g.map_size);
}

prometheus::Counter& Metrics::Transactions(const std::string& result) {
  return transactions_->Add({{"result", result}});
}

prometheus::Counter& Metrics::Restores(const std::string& kind) {
  return restores_->Add({{"kind", kind}});
}

}  // namespace segd
