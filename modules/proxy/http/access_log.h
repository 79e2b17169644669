// Envoy's access logs: the text format with command operators (%START_TIME%, %REQ(X?Y):N%,
// %RESPONSE_CODE%, %RESPONSE_FLAGS%, %DURATION%, %UPSTREAM_HOST%...), compiled once per config,
// written to a file, stdout or stderr; JSON formats map keys to the same operators.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/http/header_map.h"

namespace monomesh::proxy {

// Everything a log line may show about one request (or TCP connection).
struct AccessLogEntry {
  std::chrono::system_clock::time_point start;
  std::string_view method, path, protocol = "HTTP/1.1";
  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;
  unsigned response_code = 0;
  std::string_view response_flags;
  uint64_t bytes_received = 0, bytes_sent = 0;
  std::chrono::milliseconds duration{0};
  std::string upstream_host, upstream_cluster, downstream_remote, downstream_local, route_name;
};

class AccessLogFormatter {
 public:
  // Throws std::invalid_argument for an unknown or malformed %OPERATOR%.
  explicit AccessLogFormatter(const std::string& format);
  static const std::string& defaultFormat();
  void format(const AccessLogEntry& entry, std::string& out) const;
  // One operator whose value is a number (%RESPONSE_CODE%, %DURATION%...): JSON logs write it bare.
  bool numeric() const;

 private:
  struct Piece {
    enum class Kind {
      Literal, StartTime, Request, Response, Protocol, ResponseCode, ResponseFlags, BytesReceived, BytesSent,
      Duration, UpstreamHost, UpstreamCluster, DownstreamRemote, DownstreamRemoteNoPort, DownstreamLocal, RouteName, Method
    } kind = Kind::Literal;
    std::string text, alt;  // literal text, or header name and fallback header name
    size_t max_length = 0;
    std::string time_format;
  };
  std::vector<Piece> pieces_;
};

class AccessLogger {
 public:
  // Throws std::invalid_argument for unsupported loggers or formats.
  static std::shared_ptr<const AccessLogger> create(const envoy::config::accesslog::v3::AccessLog& config);
  ~AccessLogger();
  void log(const AccessLogEntry& entry) const;

 private:
  AccessLogger() = default;
  int fd_ = -1;
  bool owns_fd_ = false;
  std::unique_ptr<AccessLogFormatter> text_;
  std::vector<std::pair<std::string, AccessLogFormatter>> json_;  // key -> formatter
};

}  // namespace monomesh::proxy
