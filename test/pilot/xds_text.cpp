#include "xds_text.h"

#include <sstream>

#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace monomesh::pilot::testing {

namespace rv3 = envoy::config::route::v3;
namespace lv3 = envoy::config::listener::v3;

namespace {

std::string duration(const google::protobuf::Duration& d) {
  if (d.nanos() == 0) return std::to_string(d.seconds()) + "s";
  return std::to_string(d.seconds() * 1000 + d.nanos() / 1000000) + "ms";
}

std::string percent(const envoy::type::v3::FractionalPercent& p) {
  double scale = p.denominator() == envoy::type::v3::FractionalPercent::MILLION       ? 10000.0
                 : p.denominator() == envoy::type::v3::FractionalPercent::TEN_THOUSAND ? 100.0
                                                                                      : 1.0;
  std::ostringstream out;
  out << double(p.numerator()) / scale << "%";
  return out.str();
}

std::string stringMatcher(const envoy::type::matcher::v3::StringMatcher& m) {
  using M = envoy::type::matcher::v3::StringMatcher;
  switch (m.match_pattern_case()) {
    case M::kExact: return "exact=" + m.exact();
    case M::kPrefix: return "prefix=" + m.prefix();
    case M::kSuffix: return "suffix=" + m.suffix();
    case M::kSafeRegex: return "regex=" + m.safe_regex().regex();
    case M::kContains: return "contains=" + m.contains();
    default: return "?";
  }
}

std::string headerMatcher(const rv3::HeaderMatcher& h) {
  using H = rv3::HeaderMatcher;
  std::string out = h.name() + " ";
  switch (h.header_match_specifier_case()) {
    case H::kStringMatch: out += stringMatcher(h.string_match()); break;
    case H::kExactMatch: out += "exact_match=" + h.exact_match(); break;
    case H::kPrefixMatch: out += "prefix_match=" + h.prefix_match(); break;
    case H::kSafeRegexMatch: out += "regex_match=" + h.safe_regex_match().regex(); break;
    case H::kPresentMatch: out += "present"; break;
    default: out += "?"; break;
  }
  return out;
}

template <class Options>
void headerOps(std::ostream& out, const char* side, const Options& add, const google::protobuf::RepeatedPtrField<std::string>& remove) {
  using O = envoy::config::core::v3::HeaderValueOption;
  for (const auto& o : add)
    out << " " << side << "+" << o.header().key() << "=" << o.header().value()
        << (o.append_action() == O::OVERWRITE_IF_EXISTS_OR_ADD ? "(set)" : "(add)");
  for (const auto& r : remove) out << " " << side << "-" << r;
}

std::string retry(const rv3::RetryPolicy& r) {
  std::ostringstream out;
  out << "retry=" << r.num_retries().value() << " on=" << r.retry_on();
  if (!r.retriable_status_codes().empty()) {
    out << " codes=";
    for (int i = 0; i < r.retriable_status_codes_size(); ++i) out << (i ? "," : "") << r.retriable_status_codes(i);
  }
  if (r.has_per_try_timeout()) out << " per_try=" << duration(r.per_try_timeout());
  for (const auto& p : r.retry_host_predicate()) out << " host_predicate=" << p.name();
  if (r.host_selection_retry_max_attempts() > 0) out << " host_attempts=" << r.host_selection_retry_max_attempts();
  return out.str();
}

void action(std::ostream& out, const rv3::RouteAction& a) {
  if (a.cluster_specifier_case() == rv3::RouteAction::kCluster) out << " -> " << a.cluster();
  else
    for (const auto& c : a.weighted_clusters().clusters()) {
      out << " -> " << c.name() << "=" << c.weight().value();
      headerOps(out, "req", c.request_headers_to_add(), c.request_headers_to_remove());
      headerOps(out, "resp", c.response_headers_to_add(), c.response_headers_to_remove());
    }
  if (a.has_timeout()) out << " timeout=" << duration(a.timeout());
  if (!a.prefix_rewrite().empty()) out << " prefix_rewrite=" << a.prefix_rewrite();
  if (!a.host_rewrite_literal().empty()) out << " host_rewrite=" << a.host_rewrite_literal();
  for (const auto& m : a.request_mirror_policies()) out << " mirror=" << m.cluster();
  for (const auto& u : a.upgrade_configs()) out << " upgrade=" << u.upgrade_type();
  for (const auto& h : a.hash_policy()) {
    if (h.has_header()) out << " hash=header:" << h.header().header_name();
    if (h.has_cookie()) out << " hash=cookie:" << h.cookie().name() << (h.cookie().has_ttl() ? "/" + duration(h.cookie().ttl()) : "");
    if (h.has_connection_properties()) out << " hash=source_ip";
  }
  if (a.has_retry_policy()) out << "\n        " << retry(a.retry_policy());
}

void perFilter(std::ostream& out, const rv3::Route& r) {
  for (const auto& [name, any] : r.typed_per_filter_config()) {
    envoy::extensions::filters::http::fault::v3::HTTPFault fault;
    envoy::extensions::filters::http::cors::v3::CorsPolicy cors;
    out << "\n        " << name << ":";
    if (any.UnpackTo(&fault) && any.type_url().ends_with("HTTPFault")) {
      if (fault.has_delay()) out << " delay=" << duration(fault.delay().fixed_delay()) << "@" << percent(fault.delay().percentage());
      if (fault.has_abort()) out << " abort=" << fault.abort().http_status() << "@" << percent(fault.abort().percentage());
    } else if (any.UnpackTo(&cors) && any.type_url().ends_with("CorsPolicy")) {
      out << " origins=";
      for (int i = 0; i < cors.allow_origin_string_match_size(); ++i)
        out << (i ? "," : "") << stringMatcher(cors.allow_origin_string_match(i));
      out << " methods=" << cors.allow_methods() << " headers=" << cors.allow_headers() << " expose=" << cors.expose_headers()
          << " max_age=" << cors.max_age();
      if (cors.has_allow_credentials()) out << " credentials=" << (cors.allow_credentials().value() ? "true" : "false");
    } else {
      out << " " << any.type_url();
    }
  }
}

}  // namespace

std::string describeRoute(const rv3::Route& r) {
  std::ostringstream out;
  out << "route";
  if (!r.name().empty()) out << " [" << r.name() << "]";
  const auto& m = r.match();
  switch (m.path_specifier_case()) {
    case rv3::RouteMatch::kPrefix: out << " prefix=" << m.prefix(); break;
    case rv3::RouteMatch::kPath: out << " path=" << m.path(); break;
    case rv3::RouteMatch::kSafeRegex: out << " regex=" << m.safe_regex().regex(); break;
    default: out << " path=?"; break;
  }
  for (const auto& h : m.headers()) out << " [" << headerMatcher(h) << "]";
  switch (r.action_case()) {
    case rv3::Route::kRoute: action(out, r.route()); break;
    case rv3::Route::kRedirect:
      out << " redirect host=" << r.redirect().host_redirect() << " path=" << r.redirect().path_redirect()
          << " code=" << int(r.redirect().response_code());
      break;
    case rv3::Route::kDirectResponse: out << " direct=" << r.direct_response().status(); break;
    default: out << " no-action"; break;
  }
  std::ostringstream headers;
  headerOps(headers, "req", r.request_headers_to_add(), r.request_headers_to_remove());
  headerOps(headers, "resp", r.response_headers_to_add(), r.response_headers_to_remove());
  if (!headers.str().empty()) out << "\n       " << headers.str();
  perFilter(out, r);
  return out.str();
}

std::string describeRoutes(const rv3::RouteConfiguration& config) {
  std::ostringstream out;
  out << "route_config " << config.name() << "\n";
  for (const auto& vh : config.virtual_hosts()) {
    out << "  vhost " << vh.name();
    if (vh.require_tls() != rv3::VirtualHost::NONE) out << " require_tls=" << rv3::VirtualHost::TlsRequirementType_Name(vh.require_tls());
    out << "\n    domains";
    for (const auto& d : vh.domains()) out << " " << d;
    out << "\n";
    for (const auto& r : vh.routes()) out << "    " << describeRoute(r) << "\n";
  }
  return out.str();
}

namespace {

void describeTls(std::ostream& out, const envoy::config::core::v3::TransportSocket& socket) {
  envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext tls;
  if (!socket.typed_config().UnpackTo(&tls)) {
    out << " transport=" << socket.name();
    return;
  }
  const auto& c = tls.common_tls_context();
  out << "\n      tls";
  for (const auto& cert : c.tls_certificates())
    out << " cert=" << cert.certificate_chain().filename() << " key=" << cert.private_key().filename();
  if (c.has_validation_context()) {
    out << " ca=" << c.validation_context().trusted_ca().filename();
    for (const auto& san : c.validation_context().match_subject_alt_names()) out << " san=" << stringMatcher(san);
  }
  if (tls.require_client_certificate().value()) out << " mutual";
  out << " alpn=";
  for (int i = 0; i < c.alpn_protocols_size(); ++i) out << (i ? "," : "") << c.alpn_protocols(i);
  if (c.has_tls_params()) {
    using P = envoy::extensions::transport_sockets::tls::v3::TlsParameters;
    out << " min=" << P::TlsProtocol_Name(c.tls_params().tls_minimum_protocol_version())
        << " max=" << P::TlsProtocol_Name(c.tls_params().tls_maximum_protocol_version());
    for (const auto& s : c.tls_params().cipher_suites()) out << " cipher=" << s;
  }
}

void describeFilter(std::ostream& out, const lv3::Filter& f) {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager h;
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy t;
  out << "\n      " << f.name();
  if (f.typed_config().type_url().ends_with("HttpConnectionManager") && f.typed_config().UnpackTo(&h)) {
    out << " stat=" << h.stat_prefix() << " rds=" << h.rds().route_config_name() << " filters=";
    for (int i = 0; i < h.http_filters_size(); ++i) out << (i ? "," : "") << h.http_filters(i).name();
    if (h.use_remote_address().value()) out << " use_remote_address";
    for (const auto& u : h.upgrade_configs()) out << " upgrade=" << u.upgrade_type();
  } else if (f.typed_config().UnpackTo(&t)) {
    out << " stat=" << t.stat_prefix();
    if (!t.cluster().empty()) out << " -> " << t.cluster();
    for (const auto& c : t.weighted_clusters().clusters()) out << " -> " << c.name() << "=" << c.weight();
  }
}

}  // namespace

std::string describeListener(const lv3::Listener& l) {
  std::ostringstream out;
  const auto& sa = l.address().socket_address();
  out << "listener " << l.name() << " " << sa.address() << ":" << sa.port_value();
  for (const auto& f : l.listener_filters()) out << " +" << f.name();
  out << "\n";
  for (const auto& chain : l.filter_chains()) {
    out << "    chain sni=[";
    const auto& names = chain.filter_chain_match().server_names();
    for (int i = 0; i < names.size(); ++i) out << (i ? "," : "") << names[i];
    out << "]";
    if (chain.has_transport_socket()) describeTls(out, chain.transport_socket());
    for (const auto& f : chain.filters()) describeFilter(out, f);
    out << "\n";
  }
  return out.str();
}

std::string describeListeners(const std::vector<lv3::Listener>& listeners) {
  std::string out;
  for (const auto& l : listeners) out += describeListener(l);
  return out;
}

}  // namespace monomesh::pilot::testing
