// AccessLogFilter: Envoy's access-log filters with their ComparisonFilter semantics (EQ/GE/LE,
// runtime_key overrides), and the errors for filters that cannot be used.
#include <boost/test/unit_test.hpp>

#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/config/runtime_values.h"
#include "proxy/http/access_log.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;

namespace {

struct Request {
  HeaderMap request, response, trailers;
  RuntimeValues runtime;
  AccessLogEntry entry;
  Request() {
    request.set(boost::beast::http::field::host, "example.com");
    entry.method = "GET";
    entry.path = "/x";
    entry.request_headers = &request;
    entry.response_headers = &response;
    entry.response_trailers = &trailers;
    entry.response_code = 200;
    entry.duration = std::chrono::milliseconds(50);
    entry.runtime = &runtime;
  }
  bool passes(const std::string& yaml) const {
    return AccessLogFilter::compile(fromYaml<envoy::config::accesslog::v3::AccessLogFilter>(yaml)).evaluate(entry);
  }
};

std::string compileError(const std::string& yaml) {
  auto filter = fromYaml<envoy::config::accesslog::v3::AccessLogFilter>(yaml);
  return errorOf([&] { AccessLogFilter::compile(filter); });
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(access_log_filter, Request)

BOOST_AUTO_TEST_CASE(status_code_comparisons) {
  auto status = [](const char* op, int value) {
    return std::string("status_code_filter: {comparison: {op: ") + op + ", value: {default_value: " + std::to_string(value) +
           ", runtime_key: access_log.status}}}";
  };
  entry.response_code = 404;
  BOOST_TEST(passes(status("GE", 400)));
  BOOST_TEST(passes(status("GE", 404)));
  BOOST_TEST(!passes(status("GE", 500)));
  BOOST_TEST(passes(status("LE", 404)));
  BOOST_TEST(!passes(status("LE", 403)));
  BOOST_TEST(passes(status("EQ", 404)));
  BOOST_TEST(!passes(status("EQ", 400)));
  entry.response_code = 0;  // no response (a reset): compared as 0, as Envoy
  BOOST_TEST(passes(status("EQ", 0)));
}

BOOST_AUTO_TEST_CASE(runtime_key_overrides_the_default_value) {
  const std::string filter = "status_code_filter: {comparison: {op: GE, value: {default_value: 500, runtime_key: log.min}}}";
  entry.response_code = 404;
  BOOST_TEST(!passes(filter));
  runtime.values["log.min"] = "400";
  BOOST_TEST(passes(filter));
  runtime.values["log.min"] = "not a number";  // ignored: the default applies
  BOOST_TEST(!passes(filter));
}

BOOST_AUTO_TEST_CASE(duration_filter) {
  const std::string filter = "duration_filter: {comparison: {op: GE, value: {default_value: 100, runtime_key: log.slow}}}";
  entry.duration = std::chrono::milliseconds(99);
  BOOST_TEST(!passes(filter));
  entry.duration = std::chrono::milliseconds(100);
  BOOST_TEST(passes(filter));
}

BOOST_AUTO_TEST_CASE(not_health_check_filter) {
  BOOST_TEST(passes("not_health_check_filter: {}"));
  entry.health_check = true;
  BOOST_TEST(!passes("not_health_check_filter: {}"));
}

BOOST_AUTO_TEST_CASE(traceable_filter_reads_the_request_id_mark) {
  BOOST_TEST(!passes("traceable_filter: {}"));  // no x-request-id
  request.set("x-request-id", "a1b2c3d4-0000-4000-8000-000000000000");  // uuid4: not traced
  BOOST_TEST(!passes("traceable_filter: {}"));
  for (char mark : {'a', 'b', 'c'}) {
    std::string id = "a1b2c3d4-0000-4000-8000-000000000000";
    id[14] = mark;  // forced, sampled, client
    request.set("x-request-id", id);
    BOOST_TEST(passes("traceable_filter: {}"), id);
  }
}

BOOST_AUTO_TEST_CASE(runtime_filter_samples_by_request_id) {
  const std::string filter = "runtime_filter: {runtime_key: log.sample, percent_sampled: {numerator: 10, denominator: HUNDRED}}";
  request.set("x-request-id", "00000009-0000-4000-8000-000000000000");  // 9 % 100 < 10
  BOOST_TEST(passes(filter));
  request.set("x-request-id", "0000000a-0000-4000-8000-000000000000");  // 10 % 100
  BOOST_TEST(!passes(filter));
  runtime.values["log.sample"] = "11";  // the runtime's percentage wins
  BOOST_TEST(passes(filter));
  runtime.values["log.sample"] = "0";
  BOOST_TEST(!passes(filter));
  runtime.values.clear();
  // Independent randomness ignores the request id and uses the entry's draw.
  const std::string independent =
      "runtime_filter: {runtime_key: k, percent_sampled: {numerator: 10}, use_independent_randomness: true}";
  entry.random = 5;
  BOOST_TEST(passes(independent));
  entry.random = 50;
  BOOST_TEST(!passes(independent));
  // Without percent_sampled nothing is sampled (Envoy's default of 0%).
  request.erase("x-request-id");
  entry.random = 0;
  BOOST_TEST(!passes("runtime_filter: {runtime_key: k}"));
}

BOOST_AUTO_TEST_CASE(and_or_filters) {
  const std::string is404 = "{status_code_filter: {comparison: {op: EQ, value: {default_value: 404, runtime_key: a}}}}";
  const std::string slow = "{duration_filter: {comparison: {op: GE, value: {default_value: 100, runtime_key: b}}}}";
  entry.response_code = 404;
  entry.duration = std::chrono::milliseconds(10);
  BOOST_TEST(!passes("and_filter: {filters: [" + is404 + ", " + slow + "]}"));
  BOOST_TEST(passes("or_filter: {filters: [" + is404 + ", " + slow + "]}"));
  entry.response_code = 200;
  BOOST_TEST(!passes("or_filter: {filters: [" + is404 + ", " + slow + "]}"));
  entry.duration = std::chrono::milliseconds(500);
  BOOST_TEST(passes("or_filter: {filters: [" + is404 + ", " + slow + "]}"));
  BOOST_TEST(passes("and_filter: {filters: [" + slow + ", {not_health_check_filter: {}}]}"));
}

BOOST_AUTO_TEST_CASE(header_filter) {
  request.set("x-debug", "yes");
  BOOST_TEST(passes("header_filter: {header: {name: x-debug, exact_match: \"yes\"}}"));
  BOOST_TEST(!passes("header_filter: {header: {name: x-debug, exact_match: \"no\"}}"));
  BOOST_TEST(passes("header_filter: {header: {name: X-Debug, present_match: true}}"));
  BOOST_TEST(!passes("header_filter: {header: {name: x-other, present_match: true}}"));
  BOOST_TEST(passes("header_filter: {header: {name: x-other, present_match: true, invert_match: true}}"));
  BOOST_TEST(passes("header_filter: {header: {name: \":method\", exact_match: GET}}"));
  BOOST_TEST(passes("header_filter: {header: {name: \":path\", prefix_match: /}}"));
  entry.request_headers = nullptr;  // a TCP connection has no headers
  BOOST_TEST(!passes("header_filter: {header: {name: x-debug, present_match: true}}"));
}

BOOST_AUTO_TEST_CASE(response_flag_filter) {
  BOOST_TEST(!passes("response_flag_filter: {}"));  // any flag: there is none
  entry.response_flags = "UF";
  BOOST_TEST(passes("response_flag_filter: {}"));
  BOOST_TEST(passes("response_flag_filter: {flags: [UH, UF]}"));
  BOOST_TEST(!passes("response_flag_filter: {flags: [UH]}"));
  entry.response_flags = "URX,UF";
  BOOST_TEST(passes("response_flag_filter: {flags: [UF]}"));
  BOOST_TEST(passes("response_flag_filter: {flags: [URX]}"));
  BOOST_TEST(!passes("response_flag_filter: {flags: [UR]}"));  // not a prefix match
}

BOOST_AUTO_TEST_CASE(grpc_status_filter) {
  // From the trailers, else the headers, else inferred from the HTTP status.
  trailers.set("grpc-status", "14");
  BOOST_TEST(passes("grpc_status_filter: {statuses: [UNAVAILABLE]}"));
  BOOST_TEST(!passes("grpc_status_filter: {statuses: [UNAVAILABLE], exclude: true}"));
  trailers.erase("grpc-status");
  response.set("grpc-status", "0");  // trailers-only answer
  BOOST_TEST(passes("grpc_status_filter: {statuses: [OK]}"));
  response.erase("grpc-status");
  entry.response_code = 503;
  BOOST_TEST(passes("grpc_status_filter: {statuses: [UNAVAILABLE]}"));
  entry.response_code = 404;
  BOOST_TEST(passes("grpc_status_filter: {statuses: [UNIMPLEMENTED]}"));
  entry.response_code = 200;
  BOOST_TEST(passes("grpc_status_filter: {statuses: [UNKNOWN]}"));
  response.set("grpc-status", "banana");  // not a status: in no list
  BOOST_TEST(!passes("grpc_status_filter: {statuses: [OK, UNKNOWN]}"));
  BOOST_TEST(passes("grpc_status_filter: {statuses: [OK], exclude: true}"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  std::string e = compileError("status_code_filter: {}");
  BOOST_TEST(e == "status_code_filter.comparison: required", e);
  e = compileError("status_code_filter: {comparison: {op: GE}}");
  BOOST_TEST(e == "status_code_filter.comparison.value: required", e);
  e = compileError("duration_filter: {comparison: {op: GE, value: {default_value: 3}}}");
  BOOST_TEST(e == "duration_filter.comparison.value.runtime_key: required", e);
  e = compileError("runtime_filter: {}");
  BOOST_TEST(e == "runtime_filter.runtime_key: required", e);
  e = compileError("and_filter: {filters: [{not_health_check_filter: {}}]}");
  BOOST_TEST(e == "and_filter.filters: needs at least 2 filters, has 1", e);
  e = compileError("or_filter: {filters: [{traceable_filter: {}}, {and_filter: {filters: [{traceable_filter: {}}, "
                   "{status_code_filter: {}}]}}]}");
  BOOST_TEST(e == "or_filter.filters[1].and_filter.filters[1].status_code_filter.comparison: required", e);
  e = compileError("header_filter: {}");
  BOOST_TEST(e == "header_filter.header: required", e);
  e = compileError("header_filter: {header: {name: x, safe_regex_match: {regex: \"(\"}}}");
  BOOST_TEST(contains(e, "header_filter.header: "), e);
  e = compileError("response_flag_filter: {flags: [UF, NOPE]}");
  BOOST_TEST(e == "response_flag_filter.flags[1]: unknown response flag \"NOPE\"", e);
  e = compileError("metadata_filter: {}");
  BOOST_TEST(e == "metadata_filter: not supported", e);
  e = compileError("extension_filter: {name: my.filter}");
  BOOST_TEST(contains(e, "extension_filter: not supported"), e);
  e = compileError("log_type_filter: {}");
  BOOST_TEST(e == "log_type_filter: not supported", e);
  e = compileError("{}");
  BOOST_TEST(contains(e, "filter_specifier is required"), e);
  // Enum numbers outside the lists (only through the wire or numeric JSON).
  envoy::config::accesslog::v3::AccessLogFilter f;
  f.mutable_grpc_status_filter()->add_statuses(envoy::config::accesslog::v3::GrpcStatusFilter::Status(42));
  e = errorOf([&] { AccessLogFilter::compile(f); });
  BOOST_TEST(e == "grpc_status_filter.statuses[0]: unknown status 42", e);
  f.Clear();
  auto* c = f.mutable_status_code_filter()->mutable_comparison();
  c->set_op(envoy::config::accesslog::v3::ComparisonFilter::Op(7));
  e = errorOf([&] { AccessLogFilter::compile(f); });
  BOOST_TEST(e == "status_code_filter.comparison.op: unknown operator 7", e);
}

BOOST_AUTO_TEST_SUITE_END()
