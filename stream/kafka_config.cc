#include <string>

#include "common/log.h"
#include "stream/kafka_handles.h"

namespace segd::kafka {

Result<ConfPtr> MakeConf(const std::map<std::string, std::string>& defaults,
                         const std::map<std::string, std::string>& overrides) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto* m : {&defaults, &overrides}) {
    for (const auto& [key, value] : *m) {
      if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
          RD_KAFKA_CONF_OK) {
        return Status::InvalidArgument("Kafka setting " + key + "=" + value + ": " + errstr);
      }
    }
  }
  return conf;
}

Status StatusFromError(const rd_kafka_error_t* error, const char* what) {
  if (error == nullptr) return Status::Ok();
  std::string msg = std::string(what) + ": " + rd_kafka_error_string(error);
  if (rd_kafka_error_is_fatal(error)) return Status::Fatal(msg);
  if (rd_kafka_error_txn_requires_abort(error)) return Status::Aborted(msg);
  if (rd_kafka_error_is_retriable(error)) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

Status StatusFromCode(rd_kafka_resp_err_t err, const char* what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + rd_kafka_err2str(err));
}

Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err) return StatusFromCode(err, "metadata");
  rd_kafka_resp_err_t terr =
      md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
  int count = terr == RD_KAFKA_RESP_ERR_NO_ERROR ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  if (terr) return Status::NotFound("topic " + topic + ": " + rd_kafka_err2str(terr));
  if (count <= 0) return Status::NotFound("topic " + topic + " has no partitions");
  return count;
}

namespace {

void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  LogLevel l = level <= 3 ? LogLevel::kError : level == 4 ? LogLevel::kWarn
             : level <= 6 ? LogLevel::kInfo : LogLevel::kDebug;
  Log(l, "Kafka client", {{"client", rd_kafka_name(rk)}, {"facility", fac}, {"detail", buf}});
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void*) {
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  // Broker-down and transport errors are retried by librdkafka; they are
  // warnings until something gives up.
  LogLevel l = code == RD_KAFKA_RESP_ERR__FATAL ? LogLevel::kError : LogLevel::kWarn;
  Log(l, "Kafka client error",
      {{"client", rd_kafka_name(rk)}, {"error", rd_kafka_err2name(code)}, {"detail", reason}});
}

}  // namespace

void InstallLogCallbacks(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, LogCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
}

}  // namespace segd::kafka
