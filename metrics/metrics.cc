#include "metrics/metrics.h"

#include <prometheus/text_serializer.h>

namespace segd {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

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
                       .Help("Kafka transactions, by result (committed, aborted, retried)")
                       .Register(r);
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

prometheus::Gauge& Metrics::Members(const std::string& segment, int partition) {
  return members_->Add({{"segment", segment}, {"partition", std::to_string(partition)}});
}

prometheus::Counter& Metrics::Transactions(const std::string& result) {
  return transactions_->Add({{"result", result}});
}

}  // namespace segd
