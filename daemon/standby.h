// Standby copies (`standby_replicas: K`): warm copies of partitions other
// instances of the group own, kept by tailing their changelogs, so that a
// partition failing over to this instance restores only the tail since.
//
// Kafka stays the only coordinator: every instance describes the group
// (DescribeConsumerGroups) and works out the same placement from it. The
// members, ordered by instance id, form a ring; partition p owned by the
// member at position i has its copies on the K members after i, starting
// p places further on (so one owner's copies spread over the others).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/changelog_copy.h"
#include "daemon/config.h"
#include "metrics/metrics.h"
#include "state/partition_store.h"
#include "stream/changelog_tail.h"
#include "stream/kafka_config.h"
#include "stream/topic_admin.h"

namespace segd {

// The input partitions `self` keeps copies of under that placement: the
// partitions of `topics` that other members own.
std::set<TopicPartition> StandbyPlacement(const GroupDescription& group, const std::string& self,
                                          int replicas, const std::vector<std::string>& topics);

class Standbys {
 public:
  Standbys(const Config& config, Metrics* metrics);
  ~Standbys();  // stops the thread and closes every copy

  void Start();

  // The pipeline is about to open these partitions: their copies are closed
  // first (waits for the copy's current chunk at most) and none is opened
  // until Disown.
  void Own(const std::vector<TopicPartition>& parts);
  // The pipeline closed these partitions' stores.
  void Disown(const std::vector<TopicPartition>& parts);

 private:
  struct Copy {
    std::unique_ptr<PartitionStore> store;
    ChangelogBase base;       // where the copy stands
    // When the base was last written to the store (wall clock), so that at
    // the changelog's end it is rewritten at most every kBaseRefreshMs.
    // Not base.as_of_ms: a chunk applied mid-stream moves base.offset but
    // keeps the older as_of_ms (when the changelog was last seen to end
    // there), which is what a restore judges the copy's age by.
    int64_t base_written_ms = 0;
    std::vector<ChangelogRecord> pending;
    int64_t pending_end = 0;  // offset after the last pending record
  };

  void Run();
  void Place();  // describes the group, opens and closes copies
  Status OpenCopy(const TopicPartition& tp);  // with mu_ held
  Status ResetCopy(Copy* copy);               // with mu_ held: empty, from offset 0
  void Flush(const TopicPartition& tp, Copy* copy, int64_t now_ms);  // with mu_ held
  void Assign();                                  // with mu_ held

  const Config& config_;
  Metrics* metrics_;
  std::unique_ptr<GroupAdmin> admin_;
  std::unique_ptr<PartitionTail> tail_;  // the changelogs' reader
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> place_now_{true};

  std::mutex mu_;  // copies_, owned_, reassign_
  std::map<TopicPartition, Copy> copies_;  // by input partition
  std::set<TopicPartition> owned_;         // held by the pipeline
  bool reassign_ = false;
  std::map<std::string, std::string> changelog_inputs_;  // changelog topic → input topic
};

}  // namespace segd
