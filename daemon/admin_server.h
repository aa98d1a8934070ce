// The admin HTTP server (Boost.Beast): /metrics, /healthz, /readyz.
//
// It runs on its own thread with its own io_context and never blocks the
// pipeline: the handlers only read thread-safe state (the metrics registry
// and an atomic readiness flag).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "metrics/metrics.h"

namespace segd {

class AdminServer {
 public:
  // `ready` is called on the server thread; it must be thread-safe.
  AdminServer(Metrics* metrics, std::function<bool()> ready);
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
