// A Listener compiled for serving: its address, listener filters (original_dst, tls_inspector),
// filter chains with their match conditions, and each chain's terminal network filter
// (http_connection_manager or tcp_proxy) compiled once.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"
#include "observe/stats_store.h"
#include "proxy/config/tls_config.h"
#include "proxy/http/hcm_config.h"
#include "proxy/listener/tls_inspector.h"
#include "proxy/tcp/tcp_proxy.h"

namespace monomesh::proxy {

struct CidrMatch {
  boost::asio::ip::address prefix;
  unsigned length = 0;
  bool contains(const boost::asio::ip::address& a) const;
};

struct FilterChainConfig {
  std::string name;
  std::optional<uint32_t> destination_port;
  std::vector<CidrMatch> prefix_ranges;
  std::vector<std::string> server_names, application_protocols;
  std::string transport_protocol;
  std::shared_ptr<const HcmConfig> http;
  std::shared_ptr<const TcpProxyConfig> tcp;
  std::shared_ptr<const DownstreamTls> tls;  // transport_socket: TLS termination
};

struct ListenerConfig {
  std::string name;
  boost::asio::ip::tcp::endpoint address;
  bool bind_to_port = true;
  bool use_original_dst = false;  // hand connections to the listener of their original destination
  std::vector<FilterChainConfig> chains;
  std::optional<FilterChainConfig> default_chain;
  envoy::config::listener::v3::Listener config;  // as given, for /config_dump
  observe::Counter *cx_total, *no_filter_chain, *ssl_handshake, *ssl_connection_error, *ssl_no_certificate;
  observe::Gauge* cx_active;

  bool tls_inspector = false;  // peek at the ClientHello before choosing a chain
  std::chrono::milliseconds listener_filters_timeout{15000};

  // The chain for a connection to `destination` (the most specific match, by Envoy's order:
  // port, address prefix, server name, transport protocol, ALPN), or nullptr.
  const FilterChainConfig* select(const boost::asio::ip::tcp::endpoint& destination,
                                  const ConnectionInfo& info = {}) const;

  // The route_config_names of the chains' HCMs that take their routes from RDS.
  std::set<std::string> rdsNames() const;
  // Removed or replaced: its HTTP connections finish the request in flight and close.
  void startDraining() const;

  // Throws std::invalid_argument naming the field that is wrong. `rds`: where HCMs with rds get
  // their routes; `access_log_files`: where access logs open their files (null: unbuffered).
  static std::shared_ptr<const ListenerConfig> compile(const envoy::config::listener::v3::Listener& listener,
                                                       observe::StatsStore& stats, const SecretStore* secrets = nullptr,
                                                       RouteConfigProviders* rds = nullptr,
                                                       AccessLogManager* access_log_files = nullptr);
};

}  // namespace monomesh::proxy
