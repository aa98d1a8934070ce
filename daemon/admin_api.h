// The admin API's routes (docs/openapi.yaml describes them; a test keeps
// the two equal): segments (list, get, create/update, delete, members),
// users (state, explanation), and /metrics, /healthz, /readyz.
//
// Reads run on the admin server's thread against LMDB readers and
// snapshots; a segment change is validated here, persisted in the catalog
// and handed to the pipeline thread, which applies it between batches.
// Writes need `Authorization: Bearer <admin.token>`. Every error is JSON:
// {"error": code, "message": text} (plus "line" and "column" for a rule).
//
// Thread-safety: Handle() may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "daemon/admin_server.h"
#include "daemon/catalog.h"
#include "daemon/pipeline.h"
#include "metrics/metrics.h"

namespace segd {

class AdminApi {
 public:
  // All must outlive the API.
  AdminApi(Catalog* catalog, Pipeline* pipeline, Metrics* metrics, std::string token);

  HttpResponse Handle(const HttpRequest& request);

  // The routes, "METHOD /path/{param}", for tests and the 405 answers.
  struct Route {
    const char* method;
    const char* path;
  };
  static const std::vector<Route>& Routes();

 private:
  bool Allow(const std::string& client);

  Catalog* catalog_;
  Pipeline* pipeline_;
  Metrics* metrics_;
  std::string token_;
  std::mutex write_mu_;  // one segment change at a time
  std::mutex rate_mu_;
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, Bucket> buckets_;
};

}  // namespace segd
