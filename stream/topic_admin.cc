#include "stream/topic_admin.h"

#include "stream/kafka_handles.h"

namespace segd {

namespace {

Result<kafka::HandlePtr> AdminHandle(const KafkaSettings& kafka) {
  auto conf = kafka::MakeConf({{"bootstrap.servers", kafka.brokers}, {"client.id", "segd-admin"}},
                              kafka.producer);
  if (!conf.ok()) return conf.status();
  kafka::InstallLogCallbacks(conf->get());
  char errstr[512];
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof(errstr)));
  if (!rk) return Status::InvalidArgument(std::string("Kafka admin client: ") + errstr);
  conf->release();
  return rk;
}

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
};

}  // namespace

Status CreateTopics(const KafkaSettings& kafka, const std::vector<TopicSpec>& topics,
                    int timeout_ms) {
  auto rk = AdminHandle(kafka);
  if (!rk.ok()) return rk.status();
  char errstr[512];
  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                    t.replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) return Status::InvalidArgument("topic " + t.name + ": " + errstr);
    owned.emplace_back(nt);
    for (const auto& [k, v] : t.configs) {
      rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
      if (err) return kafka::StatusFromCode(err, "topic config");
    }
    raw.push_back(nt);
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> opts(
      rd_kafka_AdminOptions_new(rk->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_operation_timeout(opts.get(), timeout_ms, errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms, errstr, sizeof(errstr));
  kafka::QueuePtr queue(rd_kafka_queue_new(rk->get()));
  rd_kafka_CreateTopics(rk->get(), raw.data(), raw.size(), opts.get(), queue.get());

  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!ev) return Status::Unavailable("create topics: no answer from the broker");
  if (rd_kafka_event_error(ev.get())) {
    return Status::Unavailable(std::string("create topics: ") +
                               rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      continue;
    }
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    std::string why = std::string("create topic ") + rd_kafka_topic_result_name(results[i]) +
                      ": " + (msg ? msg : rd_kafka_err2str(err));
    switch (err) {
      case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
      case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
      case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
      case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return Status::InvalidArgument(why);
      default:  // the controller moving, a timeout: ask again
        return Status::Unavailable(why);
    }
  }
  return Status::Ok();
}

Result<int> TopicPartitionCount(const KafkaSettings& kafka, const std::string& topic,
                                int timeout_ms) {
  auto rk = AdminHandle(kafka);
  if (!rk.ok()) return rk.status();
  return kafka::PartitionCount(rk->get(), topic, timeout_ms);
}

struct GroupAdmin::Impl {
  kafka::HandlePtr rk;
};

Result<std::unique_ptr<GroupAdmin>> GroupAdmin::Create(const KafkaSettings& kafka) {
  auto rk = AdminHandle(kafka);
  if (!rk.ok()) return rk.status();
  std::unique_ptr<GroupAdmin> g(new GroupAdmin());
  g->impl_ = std::make_unique<Impl>();
  g->impl_->rk = std::move(rk).value();
  return g;
}

GroupAdmin::~GroupAdmin() = default;

Result<GroupDescription> GroupAdmin::Describe(const std::string& group, int timeout_ms) {
  rd_kafka_t* rk = impl_->rk.get();
  char errstr[512];
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> opts(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
  rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms, errstr, sizeof(errstr));
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  const char* groups[] = {group.c_str()};
  rd_kafka_DescribeConsumerGroups(rk, groups, 1, opts.get(), queue.get());
  kafka::EventPtr ev(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!ev) return Status::Unavailable("describe group: no answer from the broker");
  if (rd_kafka_event_error(ev.get())) {
    return Status::Unavailable(std::string("describe group: ") +
                               rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_DescribeConsumerGroups_result_t* res =
      rd_kafka_event_DescribeConsumerGroups_result(ev.get());
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs =
      rd_kafka_DescribeConsumerGroups_result_groups(res, &n);
  if (n != 1) return Status::Unavailable("describe group: no description");
  if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(descs[0])) {
    return Status::Unavailable(std::string("describe group: ") + rd_kafka_error_string(e));
  }
  GroupDescription out;
  out.stable = rd_kafka_ConsumerGroupDescription_state(descs[0]) ==
               RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
  size_t members = rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
  for (size_t i = 0; i < members; ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(descs[0], i);
    GroupMember gm;
    const char* iid = rd_kafka_MemberDescription_group_instance_id(m);
    if (iid != nullptr) gm.instance_id = iid;
    gm.member_id = rd_kafka_MemberDescription_consumer_id(m);
    const rd_kafka_topic_partition_list_t* parts =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
    for (int j = 0; parts != nullptr && j < parts->cnt; ++j) {
      gm.assignment.emplace_back(parts->elems[j].topic, parts->elems[j].partition);
    }
    out.members.push_back(std::move(gm));
  }
  return out;
}

}  // namespace segd
