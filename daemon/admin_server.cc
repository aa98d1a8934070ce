#include "daemon/admin_server.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include "common/log.h"

namespace segd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;

http::response<http::string_body> Respond(const http::request<http::string_body>& req,
                                          http::status status, std::string body,
                                          const char* content_type) {
  http::response<http::string_body> res{status, req.version()};
  res.set(http::field::server, "segd");
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

struct AdminServer::Impl {
  Metrics* metrics;
  std::function<bool()> ready;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  http::response<http::string_body> Handle(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    if (req.method() != http::verb::get) {
      return Respond(req, http::status::method_not_allowed,
                     R"({"error":"method not allowed"})", "application/json");
    }
    if (target == "/metrics") {
      return Respond(req, http::status::ok, metrics->Serialize(),
                     "text/plain; version=0.0.4; charset=utf-8");
    }
    if (target == "/healthz") {
      return Respond(req, http::status::ok, R"({"status":"ok"})", "application/json");
    }
    if (target == "/readyz") {
      bool ok = ready();
      return Respond(req, ok ? http::status::ok : http::status::service_unavailable,
                     ok ? R"({"ready":true})" : R"({"ready":false})", "application/json");
    }
    return Respond(req, http::status::not_found, R"({"error":"no such route"})",
                   "application/json");
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBodyBytes);
      stream.expires_after(std::chrono::seconds(30));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser,
                                               asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto res = Handle(parser.get());
      bool keep = res.keep_alive();
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !keep) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io, Session(std::move(socket)), asio::detached);
    }
  }
};

AdminServer::AdminServer(Metrics* metrics, std::function<bool()> ready)
    : impl_(std::make_unique<Impl>()) {
  impl_->metrics = metrics;
  impl_->ready = std::move(ready);
}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("admin.listen: expected host:port");
  beast::error_code ec;
  auto addr = asio::ip::make_address(listen.substr(0, colon), ec);
  if (ec) return Status::InvalidArgument("admin.listen: bad address " + listen);
  int port = std::atoi(listen.substr(colon + 1).c_str());
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("admin.listen " + listen + ": " + ec.message());
  auto bound = impl_->acceptor.local_endpoint();
  address_ = bound.address().to_string() + ":" + std::to_string(bound.port());
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return Status::Ok();
}

void AdminServer::Stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  impl_->thread.join();
}

}  // namespace segd
