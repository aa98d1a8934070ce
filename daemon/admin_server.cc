#include "daemon/admin_server.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <array>

#include "common/log.h"

namespace segd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

http::response<http::string_body> ToBeast(const HttpResponse& r, unsigned version,
                                          bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "segd");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

}  // namespace

struct AdminServer::Impl {
  Handler handler;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  // Requests that may take long (a segment change waits for the pipeline,
  // an export scans a partition) run here, so that the probes and
  // /metrics keep answering meanwhile.
  asio::thread_pool work{2};

  HttpResponse Call(const HttpRequest& in) {
    try {
      return handler(in);
    } catch (const std::exception& e) {
      // A handler must not throw; if it does, the client still gets JSON.
      return {500, "application/json", R"({"error":"internal","message":"internal error"})", {}};
    }
  }

  static bool Quick(std::string_view target) {
    target = target.substr(0, target.find('?'));
    return target == "/healthz" || target == "/readyz" || target == "/metrics";
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      // The header is read under the largest limit; the route's own limit
      // applies once the target is known. A list upload may be large;
      // every other body is small.
      parser.body_limit(kMaxListBodyBytes);
      stream.expires_after(std::chrono::seconds(30));
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser,
                                                        asio::as_tuple(asio::use_awaitable));
      if (hec && hec != http::error::body_limit) break;
      bool list = parser.get().target().starts_with("/lists/");
      size_t limit = list ? kMaxListBodyBytes : kMaxAdminBodyBytes;
      beast::error_code ec = hec;
      if (!ec && parser.content_length() && *parser.content_length() > limit) {
        ec = http::error::body_limit;
      }
      if (!ec) {
        parser.body_limit(limit);
        stream.expires_after(std::chrono::seconds(list ? 120 : 30));
        auto [rec, n] = co_await http::async_read(stream, buffer, parser,
                                                  asio::as_tuple(asio::use_awaitable));
        ec = rec;
      }
      if (ec == http::error::body_limit) {
        HttpResponse too_big{
            413, "application/json",
            list ? R"({"error":"payload_too_large","message":"the body is over 64 MiB"})"
                 : R"({"error":"payload_too_large","message":"the body is over 1 MiB"})",
            {}};
        auto res = ToBeast(too_big, 11, false);
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        // Read what the client still sends (bounded), so that it gets to read
        // the answer instead of a reset connection.
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.expires_after(std::chrono::seconds(5));
        std::array<char, 65536> sink;
        for (size_t total = 0; total < (64u << 20);) {
          auto [rec, k] = co_await stream.async_read_some(asio::buffer(sink),
                                                          asio::as_tuple(asio::use_awaitable));
          if (rec) break;
          total += k;
        }
        co_return;
      }
      if (ec) break;
      const auto& req = parser.get();
      HttpRequest in;
      in.method = std::string(req.method_string());
      in.target = std::string(req.target());
      in.body = req.body();
      in.authorization = std::string(req[http::field::authorization]);
      in.content_type = std::string(req[http::field::content_type]);
      beast::error_code pec;
      auto peer = stream.socket().remote_endpoint(pec);
      if (!pec) in.client = peer.address().to_string();
      HttpResponse out;
      if (Quick(in.target)) {
        out = Call(in);
      } else {
        // Plain callbacks, not a capturing coroutine lambda (with GCC 12 its
        // captures were freed twice). `in` lives in this frame until the
        // answer is back.
        out = co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
            [this, &in](auto done) {
              asio::post(work, [this, &in, done = std::move(done)]() mutable {
                HttpResponse r = Call(in);
                auto ex = asio::get_associated_executor(done);
                asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable {
                  std::move(done)(std::move(r));
                });
              });
            },
            asio::use_awaitable);
      }
      auto res = ToBeast(out, req.version(), req.keep_alive());
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

AdminServer::AdminServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
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
  impl_->work.join();
}

}  // namespace segd
