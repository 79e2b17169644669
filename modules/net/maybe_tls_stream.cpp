#include "net/maybe_tls_stream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace monomesh::net {

void MaybeTlsStream::startTls(std::shared_ptr<const tls::TlsContext> context) {
  context_ = std::move(context);
  boost::beast::tcp_stream plain = std::move(std::get<0>(stream_));
  stream_.emplace<1>(std::move(plain), context_->asio());
  if (context_->side() == tls::TlsContext::Side::Client) context_->prepareClient(std::get<1>(stream_).native_handle());
}

boost::asio::awaitable<std::string> MaybeTlsStream::handshake() {
  auto& tls = std::get<1>(stream_);
  auto type = context_->side() == tls::TlsContext::Side::Server ? boost::asio::ssl::stream_base::server
                                                                  : boost::asio::ssl::stream_base::client;
  auto [ec] = co_await tls.async_handshake(type, boost::asio::as_tuple(boost::asio::use_awaitable));
  if (!ec) co_return std::string();
  std::string reason = ec == boost::beast::error::timeout ? std::string("handshake timed out") : ec.message();
  long verify = SSL_get_verify_result(tls.native_handle());
  if (verify != X509_V_OK) reason += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
  co_return reason;
}

std::string MaybeTlsStream::alpn() const {
  if (stream_.index() != 1) return {};
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(const_cast<MaybeTlsStream*>(this)->tlsStream().native_handle(), &data, &length);
  return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

std::string_view MaybeTlsStream::serverName() const {
  if (stream_.index() != 1) return {};
  const char* name = SSL_get_servername(const_cast<MaybeTlsStream*>(this)->tlsStream().native_handle(), TLSEXT_NAMETYPE_host_name);
  return name ? std::string_view(name) : std::string_view();
}

std::optional<tls::PeerIdentity> MaybeTlsStream::peerIdentity() const {
  if (stream_.index() != 1) return std::nullopt;
  return tls::peerIdentityOf(const_cast<MaybeTlsStream*>(this)->tlsStream().native_handle());
}

}  // namespace monomesh::net
