// Envoy's access logs: the text format with command operators (%START_TIME%, %REQ(X?Y):N%,
// %RESPONSE_CODE%, %RESPONSE_FLAGS%, %DURATION%, %UPSTREAM_HOST%...), compiled once per config,
// filtered (access_log_filter.h) and written through per-worker buffers (access_log_file.h) to a
// file, stdout or stderr; JSON formats map keys to the same operators.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/http/access_log_file.h"
#include "proxy/http/access_log_filter.h"
#include "proxy/http/header_map.h"

namespace monomesh::proxy {

struct RuntimeValues;

// Everything a log line may show about one request (or TCP connection).
struct AccessLogEntry {
  std::chrono::system_clock::time_point start;
  std::string_view method, path, protocol = "HTTP/1.1";  // empty: none (TCP)
  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;
  const HeaderMap* response_trailers = nullptr;
  unsigned response_code = 0;
  std::string_view response_flags;  // Envoy's short names, comma-separated
  uint64_t bytes_received = 0, bytes_sent = 0;
  std::chrono::milliseconds duration{0};
  // Start to the first byte of the upstream's response; none without one.
  std::optional<std::chrono::milliseconds> response_duration;
  // Views and endpoints, formatted only when a format shows them (port 0: none).
  std::string_view upstream_host, upstream_cluster, route_name, requested_server_name, upstream_transport_failure_reason;
  boost::asio::ip::tcp::endpoint downstream_remote, downstream_local, upstream_local;
  // For filters: runtime overrides (may be null), the request's random draw, and whether a
  // health-check filter answered the request.
  const RuntimeValues* runtime = nullptr;
  uint64_t random = 0;
  bool health_check = false;
};

class AccessLogFormatter {
 public:
  // Throws std::invalid_argument for an unknown or malformed %OPERATOR%.
  explicit AccessLogFormatter(const std::string& format);
  static const std::string& defaultFormat();
  // Appends the line; an operator without a value writes "-".
  void format(const AccessLogEntry& entry, std::string& out) const;
  // A JSON value: a lone operator renders as a number (%RESPONSE_CODE%, %DURATION%...), a string,
  // or null when it has no value; anything else as a string.
  void formatJsonValue(const AccessLogEntry& entry, std::string& out) const;

  struct Piece;
  struct TimePart;
  ~AccessLogFormatter();
  AccessLogFormatter(AccessLogFormatter&&) noexcept;

 private:
  std::vector<Piece> pieces_;
};

class AccessLogger {
 public:
  // Throws std::invalid_argument for unsupported loggers, formats or filters, naming the field.
  // Files are opened through `files` (null: each line is written at once, for tools and tests).
  static std::shared_ptr<const AccessLogger> create(const envoy::config::accesslog::v3::AccessLog& config,
                                                    AccessLogManager* files = nullptr);
  void log(const AccessLogEntry& entry) const;

  struct JsonNode;  // one key of a JSON format

 private:
  AccessLogger() = default;
  void appendJson(const std::vector<JsonNode>& object, const AccessLogEntry& entry, std::string& line) const;

  std::shared_ptr<AccessLogFile> file_;
  std::optional<AccessLogFilter> filter_;
  std::unique_ptr<AccessLogFormatter> text_;
  std::shared_ptr<const std::vector<JsonNode>> json_;
  bool typed_json_ = false;  // numbers bare and absent values null (else every value a string)
};

}  // namespace monomesh::proxy
