#include "observe/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <spdlog/spdlog.h>

#include "observe/log.h"

namespace monomesh::observe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += char(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) out[percentDecode(part)] = "";
    else out[percentDecode(part.substr(0, eq))] = percentDecode(part.substr(eq + 1));
  }
  return out;
}

}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  struct Route {
    std::string help;
    AdminHandler handler;
    bool mutating;
  };

  Impl(asio::io_context& ctx, AdminLimits l) : context(ctx), acceptor(ctx), limits(l) {}

  asio::io_context& context;
  tcp::acceptor acceptor;
  AdminLimits limits;
  std::map<std::string, Route> routes;
  std::list<std::weak_ptr<beast::tcp_stream>> sessions;
  bool closed = false;

  AdminResponse dispatch(const AdminRequest& req) {
    auto it = routes.find(req.path);
    if (it == routes.end()) {
      if (req.path == "/") return index();
      return {404, "text/plain; charset=utf-8", "no admin handler for " + req.path + "; see /\n"};
    }
    if (it->second.mutating && req.method != "POST")
      return {405, "text/plain; charset=utf-8", req.path + " changes state: use POST\n", {{"Allow", "POST"}}};
    try {
      return it->second.handler(req);
    } catch (const std::exception& e) {
      logScope("admin").error("handler {} failed: {}", req.path, e.what());
      return {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
  }

  AdminResponse index() {
    std::string body = "admin commands are:\n";
    for (auto& [path, route] : routes)
      body += "  " + path + (route.mutating ? " (POST)" : "") + ": " + route.help + "\n";
    return {200, "text/plain; charset=utf-8", body};
  }

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (closed || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        logScope("admin").warn("accept failed: {}", ec.message());
        asio::steady_timer backoff(context, std::chrono::milliseconds(50));
        co_await backoff.async_wait(use_nothrow);
        continue;
      }
      sessions.remove_if([](auto& w) { return w.expired(); });
      if (sessions.size() >= limits.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      sessions.push_back(stream);
      asio::co_spawn(context, session(stream), asio::detached);
    }
  }

  asio::awaitable<void> session(std::shared_ptr<beast::tcp_stream> stream) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(uint32_t(limits.max_header_bytes));
      parser.body_limit(limits.max_body_bytes);
      stream->expires_after(limits.io_timeout);
      auto [ec, n] = co_await http::async_read(*stream, buffer, parser, use_nothrow);
      (void)n;
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::eof) {
        break;
      }
      if (ec) {
        unsigned status = ec == http::error::header_limit    ? 431
                          : ec == http::error::body_limit    ? 413
                                                             : 400;
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.set(http::field::connection, "close");
        res.body() = "bad request: " + ec.message() + "\n";
        res.prepare_payload();
        stream->expires_after(limits.io_timeout);
        co_await http::async_write(*stream, res, use_nothrow);
        break;
      }
      auto& req = parser.get();
      AdminRequest ar;
      ar.method = std::string(req.method_string());
      std::string_view target = req.target();
      size_t q = target.find('?');
      ar.path = std::string(target.substr(0, q));
      if (q != std::string_view::npos) ar.query = parseQuery(target.substr(q + 1));
      ar.body = std::move(req.body());
      AdminResponse out = dispatch(ar);

      http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
      res.set(http::field::server, "monomesh");
      res.set(http::field::content_type, out.content_type);
      for (auto& [k, v] : out.headers) res.set(k, v);
      res.keep_alive(req.keep_alive() && !closed);
      if (req.method() != http::verb::head) res.body() = std::move(out.body);
      res.prepare_payload();
      stream->expires_after(limits.io_timeout);
      auto [wec, wn] = co_await http::async_write(*stream, res, use_nothrow);
      (void)wn;
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream->close();
  }
};

AdminServer::AdminServer(asio::io_context& context, AdminLimits limits)
    : impl_(std::make_shared<Impl>(context, limits)) {}

AdminServer::~AdminServer() { close(); }

void AdminServer::handle(const std::string& path, const std::string& help, AdminHandler handler,
                         bool mutating) {
  impl_->routes[path] = Impl::Route{help, std::move(handler), mutating};
}

boost::system::error_code AdminServer::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (ec) return ec;
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    a.close(ignored);
    return ec;
  }
  asio::co_spawn(impl_->context, impl_->acceptLoop(), asio::detached);
  return {};
}

tcp::endpoint AdminServer::localEndpoint() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

void AdminServer::close() {
  impl_->closed = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->socket().close(ignored);
  }
  impl_->sessions.clear();
}

std::optional<tcp::endpoint> parseListenAddress(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<tcp::endpoint> {
    if (error) *error = why;
    return std::nullopt;
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return fail("\"" + text + "\" is not host:port");
  std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return fail("\"" + text + "\": port must be a number from 0 to 65535");
  unsigned long port = std::stoul(port_text);
  if (port > 65535) return fail("\"" + text + "\": port must be a number from 0 to 65535");
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return fail("\"" + text + "\": \"" + host + "\" is not an IP address");
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace monomesh::observe
