// The admin HTTP server (Boost.Beast): the transport of the admin API
// (daemon/admin_api.h holds the routes).
//
// It runs on its own thread with its own io_context and never blocks the
// pipeline: the handler reads thread-safe state only (LMDB readers, the
// metrics registry, snapshots) and hands changes to the pipeline thread.
// Bodies over 1 MiB are refused with 413 before the handler sees them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace segd {

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // path and query, as sent
  std::string body;
  std::string authorization;  // the Authorization header
  std::string content_type;
  std::string client;  // the peer's address
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

constexpr size_t kMaxAdminBodyBytes = 1 << 20;
// PUT /lists/{name}: a list of a few million user ids.
constexpr size_t kMaxListBodyBytes = 64 << 20;

class AdminServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // `handler` is called on the server thread; it must be thread-safe.
  explicit AdminServer(Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds "host:port" (port 0 picks a free one) and starts serving.
  Status Start(const std::string& listen);
  // Stops serving and joins the thread. Idempotent.
  void Stop();
  // The bound "host:port", after Start.
  std::string address() const { return address_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
};

}  // namespace segd
