// AccessLogFormatter (Envoy's command operators) and AccessLogger (file, stdout, stderr; text
// and JSON formats).
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/http/access_log.h"
#include "proxy_test_util.h"

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using namespace monomesh::proxy;
using namespace std::chrono;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

using monomesh::testing::readAll;
using monomesh::testing::TempDir;

boost::asio::ip::tcp::endpoint endpoint(const char* ip, unsigned short port) {
  return {boost::asio::ip::make_address(ip), port};
}

// One request with every field set; `render` formats it.
struct Fixture {
  HeaderMap request, response;
  AccessLogEntry entry;

  Fixture() {
    request.set(http::field::host, "example.com");
    request.insert("x-forwarded-for", "10.0.0.1");
    request.insert("user-agent", "curl/7.64.0");
    request.insert("x-request-id", "abc-123");
    response.insert("x-envoy-upstream-service-time", "7");
    response.insert("content-type", "text/plain");
    // 2019-03-19T16:04:28.123Z
    entry.start = system_clock::time_point(seconds(1553011468)) + milliseconds(123);
    entry.method = "GET";
    entry.path = "/api/v1?x=1";
    entry.request_headers = &request;
    entry.response_headers = &response;
    entry.response_code = 200;
    entry.bytes_received = 12;
    entry.bytes_sent = 345;
    entry.duration = milliseconds(42);
    entry.upstream_host = "10.1.2.3:8080";
    entry.upstream_cluster = "outbound|80||backend";
    entry.downstream_remote = endpoint("192.168.1.5", 54321);
    entry.downstream_local = endpoint("10.0.0.9", 80);
    entry.route_name = "default";
  }

  std::string render(const std::string& format) const {
    std::string out;
    AccessLogFormatter(format).format(entry, out);
    return out;
  }
};



envoy::config::accesslog::v3::AccessLog fileLog(const std::string& path, const std::string& format_yaml) {
  return fromYaml<envoy::config::accesslog::v3::AccessLog>(
      "name: envoy.access_loggers.file\n"
      "typed_config:\n"
      "  \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
      "  path: " + path + "\n" + format_yaml);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(access_log_formatter, Fixture)

BOOST_AUTO_TEST_CASE(start_time_default_format) {
  BOOST_TEST(render("%START_TIME%") == "2019-03-19T16:04:28.123Z");
}

BOOST_AUTO_TEST_CASE(start_time_with_strftime_format) {
  BOOST_CHECK_NO_THROW(AccessLogFormatter("%START_TIME(%Y)%"));
  std::string year, full;
  BOOST_CHECK_NO_THROW(year = render("%START_TIME(%Y)%"));
  BOOST_TEST(year == "2019");
  BOOST_CHECK_NO_THROW(full = render("[%START_TIME(%Y/%m/%d %H:%M:%S)%]"));
  BOOST_TEST(full == "[2019/03/19 16:04:28]");
}

BOOST_AUTO_TEST_CASE(request_headers_and_pseudo_headers) {
  BOOST_TEST(render("%REQ(:METHOD)%") == "GET");
  BOOST_TEST(render("%REQ(:PATH)%") == "/api/v1?x=1");
  BOOST_TEST(render("%REQ(:AUTHORITY)%") == "example.com");
  BOOST_TEST(render("%REQ(USER-AGENT)%") == "curl/7.64.0");
  BOOST_TEST(render("%REQ(user-agent)%") == "curl/7.64.0");  // names are case-insensitive
  BOOST_TEST(render("%REQ(X-MISSING)%") == "-");
}

BOOST_AUTO_TEST_CASE(request_header_with_fallback) {
  BOOST_TEST(render("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%") == "/api/v1?x=1");
  request.insert("x-envoy-original-path", "/original");
  BOOST_TEST(render("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%") == "/original");
  BOOST_TEST(render("%REQ(X-MISSING?X-ALSO-MISSING)%") == "-");
  BOOST_TEST(render("%REQ(X-MISSING?USER-AGENT)%") == "curl/7.64.0");
}

BOOST_AUTO_TEST_CASE(response_headers) {
  BOOST_TEST(render("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%") == "7");
  BOOST_TEST(render("%RESP(CONTENT-TYPE)%") == "text/plain");
  BOOST_TEST(render("%RESP(X-MISSING)%") == "-");
  BOOST_TEST(render("%RESP(X-MISSING?CONTENT-TYPE)%") == "text/plain");
  entry.response_headers = nullptr;  // no response at all
  BOOST_TEST(render("%RESP(CONTENT-TYPE)%") == "-");
}

BOOST_AUTO_TEST_CASE(missing_request_headers_render_dash) {
  entry.request_headers = nullptr;
  BOOST_TEST(render("%REQ(USER-AGENT)%") == "-");
  BOOST_TEST(render("%REQ(:AUTHORITY)%") == "-");
  BOOST_TEST(render("%REQ(:METHOD)%") == "GET");  // pseudo-headers come from the entry
}

BOOST_AUTO_TEST_CASE(length_limit) {
  BOOST_TEST(render("%REQ(USER-AGENT):4%") == "curl");
  BOOST_TEST(render("%REQ(:PATH):3%") == "/ap");
  BOOST_TEST(render("%REQ(X-REQUEST-ID):100%") == "abc-123");
  BOOST_TEST(render("%RESP(CONTENT-TYPE):4%") == "text");
}

BOOST_AUTO_TEST_CASE(scalar_operators) {
  BOOST_TEST(render("%PROTOCOL%") == "HTTP/1.1");
  BOOST_TEST(render("%RESPONSE_CODE%") == "200");
  BOOST_TEST(render("%BYTES_RECEIVED%") == "12");
  BOOST_TEST(render("%BYTES_SENT%") == "345");
  BOOST_TEST(render("%DURATION%") == "42");
  BOOST_TEST(render("%UPSTREAM_HOST%") == "10.1.2.3:8080");
  BOOST_TEST(render("%UPSTREAM_CLUSTER%") == "outbound|80||backend");
  BOOST_TEST(render("%DOWNSTREAM_REMOTE_ADDRESS%") == "192.168.1.5:54321");
  BOOST_TEST(render("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%") == "192.168.1.5");
  BOOST_TEST(render("%DOWNSTREAM_LOCAL_ADDRESS%") == "10.0.0.9:80");
  BOOST_TEST(render("%ROUTE_NAME%") == "default");
  entry.protocol = "HTTP/1.0";
  BOOST_TEST(render("%PROTOCOL%") == "HTTP/1.0");
}

BOOST_AUTO_TEST_CASE(response_flags_dash_when_empty) {
  BOOST_TEST(render("%RESPONSE_FLAGS%") == "-");
  entry.response_flags = "UH";
  BOOST_TEST(render("%RESPONSE_FLAGS%") == "UH");
}

BOOST_AUTO_TEST_CASE(empty_values_render_dash) {
  entry.upstream_host = {};
  entry.upstream_cluster = {};
  entry.downstream_remote = {};
  entry.route_name = {};
  BOOST_TEST(render("%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %ROUTE_NAME%") ==
             "- - - - -");
  entry.response_code = 0;
  BOOST_TEST(render("%RESPONSE_CODE%") == "0");
}

// Envoy renders the IPv6 address without brackets: "[::1]:5000" -> "::1".
BOOST_AUTO_TEST_CASE(remote_address_without_port_ipv6) {
  entry.downstream_remote = endpoint("::1", 5000);
  BOOST_TEST(render("%DOWNSTREAM_REMOTE_ADDRESS%") == "[::1]:5000");
  BOOST_TEST(render("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%") == "::1");
  entry.downstream_local = endpoint("2001:db8::7", 443);
  BOOST_TEST(render("%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%") == "[2001:db8::7]:443 2001:db8::7");
  entry.downstream_local = endpoint("255.0.10.1", 65535);
  BOOST_TEST(render("%DOWNSTREAM_LOCAL_ADDRESS%") == "255.0.10.1:65535");
}

BOOST_AUTO_TEST_CASE(literals_and_percent_sign) {
  BOOST_TEST(render("100%% done") == "100% done");
  BOOST_TEST(render("%%") == "%");
  BOOST_TEST(render("a%%b%RESPONSE_CODE%%%c") == "a%b200%c");
  BOOST_TEST(render("plain text\n") == "plain text\n");
  BOOST_TEST(render("") == "");
  BOOST_TEST(render("code=%RESPONSE_CODE% dur=%DURATION%ms") == "code=200 dur=42ms");
}

BOOST_AUTO_TEST_CASE(unknown_operator_throws) {
  std::string error = errorOf([] { AccessLogFormatter("x %NOT_AN_OPERATOR% y"); });
  BOOST_TEST(contains(error, "NOT_AN_OPERATOR"), error);
  BOOST_CHECK_THROW(AccessLogFormatter("%REQ%"), std::invalid_argument);
  BOOST_CHECK_THROW(AccessLogFormatter("%REQ(X%"), std::invalid_argument);
  BOOST_CHECK_THROW(AccessLogFormatter("%response_code%"), std::invalid_argument);
}

// The constructor's contract: malformed operators throw std::invalid_argument (callers such as
// the listener compiler catch exactly that type to add the field path).
BOOST_AUTO_TEST_CASE(malformed_length_limit_throws_invalid_argument) {
  auto thrown = [](const char* format) -> std::string {
    try {
      AccessLogFormatter f(format);
    } catch (const std::invalid_argument&) {
      return "std::invalid_argument";
    } catch (const std::exception& e) {
      return std::string("another exception: ") + e.what();
    }
    return "(no exception)";
  };
  BOOST_TEST(thrown("%REQ(X):abc%") == "std::invalid_argument");
  BOOST_TEST(thrown("%REQ(X):99999999999999999999999%") == "std::invalid_argument");
}

BOOST_AUTO_TEST_CASE(unterminated_operator_throws) {
  std::string error = errorOf([] { AccessLogFormatter("abc %REQ(X-FOO)"); });
  BOOST_TEST(contains(error, "unterminated"), error);
  BOOST_CHECK_THROW(AccessLogFormatter("%"), std::invalid_argument);
  BOOST_CHECK_THROW(AccessLogFormatter("%RESPONSE_CODE"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(default_format_renders_envoys_line) {
  BOOST_TEST(AccessLogFormatter::defaultFormat() ==
             "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
             "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
             "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
             "\"%UPSTREAM_HOST%\"\n");
  BOOST_TEST(render(AccessLogFormatter::defaultFormat()) ==
             "[2019-03-19T16:04:28.123Z] \"GET /api/v1?x=1 HTTP/1.1\" 200 - 12 345 42 7 \"10.0.0.1\" "
             "\"curl/7.64.0\" \"abc-123\" \"example.com\" \"10.1.2.3:8080\"\n");
}

BOOST_AUTO_TEST_CASE(start_time_sub_second_specifiers) {
  entry.start += microseconds(456) + nanoseconds(789);  // .123456789
  BOOST_TEST(render("%START_TIME(%s)%") == "1553011468");
  BOOST_TEST(render("%START_TIME(%s.%3f)%") == "1553011468.123");
  BOOST_TEST(render("%START_TIME(%6f)%") == "123456");
  BOOST_TEST(render("%START_TIME(%9f)%") == "123456789");
  BOOST_TEST(render("%START_TIME(%f)%") == "123456789");
  BOOST_TEST(render("%START_TIME(%1f)%") == "1");
  BOOST_TEST(render("%START_TIME(%H:%M:%E3S)%") == "16:04:28.123");
  BOOST_TEST(render("%START_TIME(%Y-%m-%dT%H:%M:%S.%6fZ)%") == "2019-03-19T16:04:28.123456Z");
  BOOST_TEST(render("%START_TIME(100%% %Y)%") == "100% 2019");
  BOOST_TEST(render("%START_TIME%") == "2019-03-19T16:04:28.123Z");
  // Cached per second: the next second renders anew.
  entry.start += seconds(1);
  BOOST_TEST(render("%START_TIME%") == "2019-03-19T16:04:29.123Z");
  BOOST_TEST(render("%START_TIME(%s.%3f)%") == "1553011469.123");
}

BOOST_AUTO_TEST_CASE(more_operators) {
  HeaderMap trailers;
  trailers.insert("grpc-status", "14");
  entry.response_trailers = &trailers;
  BOOST_TEST(render("%TRAILER(GRPC-STATUS)%") == "14");
  BOOST_TEST(render("%TRAILER(X-NONE?GRPC-STATUS):1%") == "1");
  BOOST_TEST(render("%TRAILER(GRPC-MESSAGE)%") == "-");
  BOOST_TEST(render("%RESPONSE_DURATION%") == "-");  // no upstream answered
  entry.response_duration = milliseconds(17);
  BOOST_TEST(render("%RESPONSE_DURATION%") == "17");
  BOOST_TEST(render("%UPSTREAM_LOCAL_ADDRESS%") == "-");
  entry.upstream_local = endpoint("127.0.0.1", 40000);
  BOOST_TEST(render("%UPSTREAM_LOCAL_ADDRESS%") == "127.0.0.1:40000");
  BOOST_TEST(render("%REQUESTED_SERVER_NAME%") == "-");
  entry.requested_server_name = "outbound_.80_._.reviews.default.svc.cluster.local";
  BOOST_TEST(render("%REQUESTED_SERVER_NAME%") == "outbound_.80_._.reviews.default.svc.cluster.local");
  BOOST_TEST(render("%UPSTREAM_TRANSPORT_FAILURE_REASON%") == "-");
  entry.upstream_transport_failure_reason = "TLS error: certificate verify failed";
  BOOST_TEST(render("%UPSTREAM_TRANSPORT_FAILURE_REASON%") == "TLS error: certificate verify failed");
  BOOST_TEST(render("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%") == "10.0.0.9");
  BOOST_TEST(render("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%") == "192.168.1.5");
  BOOST_TEST(render("%REQUEST_HEADER(USER-AGENT)% %RESPONSE_HEADER(CONTENT-TYPE):4% %RESPONSE_TRAILER(GRPC-STATUS)%") ==
             "curl/7.64.0 text 14");
  BOOST_TEST(render("%UPSTREAM_REMOTE_ADDRESS%") == "10.1.2.3:8080");
  BOOST_TEST(render("%DYNAMIC_METADATA(istio.mixer:status)%") == "-");
  BOOST_TEST(render("%DYNAMIC_METADATA(istio.mixer:status):10%") == "-");
  BOOST_TEST(!render("%HOSTNAME%").empty());
  entry.protocol = "";  // TCP
  BOOST_TEST(render("%PROTOCOL%") == "-");
  BOOST_CHECK_THROW(AccessLogFormatter("%DYNAMIC_METADATA()%"), std::invalid_argument);
  BOOST_CHECK_THROW(AccessLogFormatter("%TRAILER()%"), std::invalid_argument);
  BOOST_CHECK_THROW(AccessLogFormatter("%REQ()%"), std::invalid_argument);
}

// Istio 1.1's default accessLogFormat (MeshConfig), HTTP and TCP.
BOOST_AUTO_TEST_CASE(istio_1_1_default_format) {
  const std::string istio =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
      "\"%DYNAMIC_METADATA(istio.mixer:status)%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
      "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
      "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% "
      "%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%\n";
  entry.upstream_local = endpoint("10.0.0.9", 41234);
  BOOST_TEST(render(istio) ==
             "[2019-03-19T16:04:28.123Z] \"GET /api/v1?x=1 HTTP/1.1\" 200 - \"-\" 12 345 42 7 \"10.0.0.1\" \"curl/7.64.0\" "
             "\"abc-123\" \"example.com\" \"10.1.2.3:8080\" outbound|80||backend 10.0.0.9:41234 10.0.0.9:80 "
             "192.168.1.5:54321 -\n");
  AccessLogEntry tcp;
  tcp.start = entry.start;
  tcp.protocol = "";
  tcp.response_flags = "UF";
  tcp.bytes_received = 10;
  tcp.duration = milliseconds(3);
  tcp.upstream_host = "10.1.2.3:3306";
  tcp.upstream_cluster = "outbound|3306||mysql";
  tcp.downstream_local = endpoint("10.0.0.9", 3306);
  tcp.downstream_remote = endpoint("10.0.0.7", 50000);
  tcp.requested_server_name = "mysql.local";
  std::string line;
  AccessLogFormatter(istio).format(tcp, line);
  BOOST_TEST(line == "[2019-03-19T16:04:28.123Z] \"- - -\" 0 UF \"-\" 10 0 3 - \"-\" \"-\" \"-\" \"-\" \"10.1.2.3:3306\" "
                     "outbound|3306||mysql - 10.0.0.9:3306 10.0.0.7:50000 mysql.local\n");
}

BOOST_AUTO_TEST_CASE(format_appends_to_the_output) {
  AccessLogFormatter f("%RESPONSE_CODE%");
  std::string out = "prefix:";
  f.format(entry, out);
  BOOST_TEST(out == "prefix:200");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(access_logger, Fixture)

BOOST_AUTO_TEST_CASE(file_logger_text_format) {
  TempDir dir;
  std::string path = dir.file("access.log");
  auto logger = AccessLogger::create(fileLog(path, "  log_format: {text_format: \"%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%\\n\"}\n"));
  BOOST_REQUIRE(logger != nullptr);
  logger->log(entry);
  entry.response_code = 404;
  logger->log(entry);
  BOOST_TEST(readAll(path) == "GET /api/v1?x=1 200\nGET /api/v1?x=1 404\n");
}

BOOST_AUTO_TEST_CASE(file_logger_deprecated_format_field_and_default_format) {
  TempDir dir;
  auto legacy = AccessLogger::create(fileLog(dir.file("a.log"), "  format: \"%RESPONSE_CODE% %DURATION%\\n\"\n"));
  legacy->log(entry);
  BOOST_TEST(readAll(dir.file("a.log")) == "200 42\n");
  auto plain = AccessLogger::create(fileLog(dir.file("b.log"), ""));
  plain->log(entry);
  std::string expected;
  AccessLogFormatter(AccessLogFormatter::defaultFormat()).format(entry, expected);
  BOOST_TEST(readAll(dir.file("b.log")) == expected);
}

BOOST_AUTO_TEST_CASE(file_logger_appends_to_an_existing_file) {
  TempDir dir;
  std::string path = dir.file("existing.log");
  {
    std::ofstream out(path);
    out << "earlier line\n";
  }
  auto logger = AccessLogger::create(fileLog(path, "  log_format: {text_format: \"%RESPONSE_CODE%\\n\"}\n"));
  logger->log(entry);
  BOOST_TEST(readAll(path) == "earlier line\n200\n");
}

BOOST_AUTO_TEST_CASE(file_logger_json_format) {
  TempDir dir;
  std::string path = dir.file("access.json");
  request.set("user-agent", "say \"hi\"");
  auto logger = AccessLogger::create(fileLog(path,
                                             "  log_format:\n"
                                             "    json_format:\n"
                                             "      method: \"%REQ(:METHOD)%\"\n"
                                             "      code: \"%RESPONSE_CODE%\"\n"
                                             "      agent: \"%REQ(USER-AGENT)%\"\n"
                                             "      missing: \"%REQ(X-NONE)%\"\n"));
  logger->log(entry);
  std::string line = readAll(path);
  BOOST_TEST(line.front() == '{');
  BOOST_TEST(line.ends_with("}\n"), line);
  BOOST_TEST(std::count(line.begin(), line.end(), '\n') == 1);
  BOOST_TEST(contains(line, "\"method\":\"GET\""), line);
  BOOST_TEST((contains(line, "\"code\":\"200\"") || contains(line, "\"code\":200")), line);
  BOOST_TEST(contains(line, "\"agent\":\"say \\\"hi\\\"\""), line);  // escaped
  BOOST_TEST(contains(line, "\"missing\":null"), line);  // typed JSON: no value is null
}

BOOST_AUTO_TEST_CASE(file_logger_top_level_json_format) {
  TempDir dir;
  std::string path = dir.file("top.json");
  auto logger = AccessLogger::create(fileLog(path, "  json_format: {status: \"%RESPONSE_CODE%\"}\n"));
  logger->log(entry);
  std::string line = readAll(path);
  BOOST_TEST((line == "{\"status\":\"200\"}\n" || line == "{\"status\":200}\n"), line);
}

// FileAccessLog.json_format renders every value as a string (Envoy: "All values are rendered as
// strings"); typed_json_format and log_format.json_format keep numbers and write null for none.
BOOST_AUTO_TEST_CASE(json_formats_typed_and_untyped) {
  TempDir dir;
  const std::string keys = "{code: \"%RESPONSE_CODE%\", none: \"%RESP(X-NONE)%\", text: \"c=%RESPONSE_CODE%\", "
                           "flags: \"%RESPONSE_FLAGS%\", "
                           "n: 5, half: 0.5, yes: true, nil: null, nested: {dur: \"%DURATION%\", ua: \"%REQ(USER-AGENT)%\"}}";
  AccessLogger::create(fileLog(dir.file("u.log"), "  json_format: " + keys + "\n"))->log(entry);
  BOOST_TEST(readAll(dir.file("u.log")) ==
             "{\"code\":\"200\",\"flags\":\"-\",\"half\":0.5,\"n\":5,"
             "\"nested\":{\"dur\":\"42\",\"ua\":\"curl/7.64.0\"},\"nil\":null,"
             "\"none\":\"-\",\"text\":\"c=200\",\"yes\":true}\n");
  AccessLogger::create(fileLog(dir.file("t.log"), "  typed_json_format: " + keys + "\n"))->log(entry);
  BOOST_TEST(readAll(dir.file("t.log")) ==
             "{\"code\":200,\"flags\":\"-\",\"half\":0.5,\"n\":5,\"nested\":{\"dur\":42,\"ua\":\"curl/7.64.0\"},\"nil\":null,"
             "\"none\":null,\"text\":\"c=200\",\"yes\":true}\n");
  AccessLogger::create(fileLog(dir.file("l.log"), "  log_format: {json_format: {code: \"%RESPONSE_CODE%\"}}\n"))->log(entry);
  BOOST_TEST(readAll(dir.file("l.log")) == "{\"code\":200}\n");
  std::string list = errorOf([&] { AccessLogger::create(fileLog(dir.file("x.log"), "  json_format: {a: [\"%DURATION%\"]}\n")); });
  BOOST_TEST(list == "typed_config.json_format.a: lists are not supported in a JSON access log format", list);
  std::string bad = errorOf([&] {
    AccessLogger::create(fileLog(dir.file("x.log"), "  typed_json_format: {outer: {inner: \"%NOPE%\"}}\n"));
  });
  BOOST_TEST(bad == "typed_config.typed_json_format.outer.inner: format: unknown operator %NOPE%", bad);
}

BOOST_AUTO_TEST_CASE(filters_decide_what_is_logged) {
  TempDir dir;
  std::string path = dir.file("errors.log");
  auto config = fileLog(path, "  log_format: {text_format: \"%RESPONSE_CODE%\\n\"}\n");
  *config.mutable_filter() = fromYaml<envoy::config::accesslog::v3::AccessLogFilter>(
      "status_code_filter: {comparison: {op: GE, value: {default_value: 400, runtime_key: access_log.min_status}}}");
  auto logger = AccessLogger::create(config);
  logger->log(entry);  // 200: not logged
  entry.response_code = 503;
  logger->log(entry);
  BOOST_TEST(readAll(path) == "503\n");
}

BOOST_AUTO_TEST_CASE(filter_errors_carry_the_field_path) {
  TempDir dir;
  auto config = fileLog(dir.file("x.log"), "");
  *config.mutable_filter() = fromYaml<envoy::config::accesslog::v3::AccessLogFilter>(
      "and_filter: {filters: [{not_health_check_filter: {}}, {duration_filter: {comparison: {op: GE}}}]}");
  std::string e = errorOf([&] { AccessLogger::create(config); });
  BOOST_TEST(e == "filter.and_filter.filters[1].duration_filter.comparison.value: required", e);
  BOOST_TEST(!std::filesystem::exists(dir.file("x.log")), "a refused config opens no file");
}

BOOST_AUTO_TEST_CASE(stdout_and_stderr_loggers_are_created) {
  auto out = fromYaml<envoy::config::accesslog::v3::AccessLog>(
      "name: envoy.access_loggers.stdout\n"
      "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}\n");
  BOOST_TEST(AccessLogger::create(out) != nullptr);
  auto err = fromYaml<envoy::config::accesslog::v3::AccessLog>(
      "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog, "
      "log_format: {text_format: \"%RESPONSE_CODE%\\n\"}}\n");
  BOOST_TEST(AccessLogger::create(err) != nullptr);
}

BOOST_AUTO_TEST_CASE(unsupported_logger_type_throws) {
  auto config = fromYaml<envoy::config::accesslog::v3::AccessLog>(
      "name: my_logger\n"
      "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}\n");
  std::string error = errorOf([&] { AccessLogger::create(config); });
  BOOST_TEST(contains(error, "unsupported logger"), error);
  BOOST_TEST(contains(error, "envoy.extensions.filters.http.cors.v3.Cors"), error);
  envoy::config::accesslog::v3::AccessLog empty;
  BOOST_CHECK_THROW(AccessLogger::create(empty), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(file_logger_errors) {
  TempDir dir;
  std::string no_path = errorOf([] {
    AccessLogger::create(fromYaml<envoy::config::accesslog::v3::AccessLog>(
        "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog}\n"));
  });
  BOOST_TEST(contains(no_path, "path"), no_path);
  std::string unopenable = errorOf([&] { AccessLogger::create(fileLog(dir.file("no/such/dir.log"), "")); });
  BOOST_TEST(contains(unopenable, "cannot open access log"), unopenable);
  std::string bad_format = errorOf([&] {
    AccessLogger::create(fileLog(dir.file("x.log"), "  log_format: {text_format: \"%BOGUS%\"}\n"));
  });
  BOOST_TEST(contains(bad_format, "BOGUS"), bad_format);
  std::string filtered = errorOf([&] {
    auto config = fileLog(dir.file("y.log"), "");
    config.mutable_filter();
    AccessLogger::create(config);
  });
  BOOST_TEST(contains(filtered, "filter"), filtered);
}

BOOST_AUTO_TEST_SUITE_END()
