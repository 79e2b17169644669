#include "proxy/http/route_table.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "proxy/config/data_source.h"
#include "proxy/config/proto_values.h"

namespace monomesh::proxy {

namespace rv3 = envoy::config::route::v3;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view pathOnly(std::string_view target) {
  // A plain loop: find_first_of searches the set once per character (it showed in profiles).
  for (size_t i = 0; i < target.size(); ++i)
    if (target[i] == '?' || target[i] == '#') return target.substr(0, i);
  return target;
}

RetryPolicy compileRetry(const rv3::RetryPolicy& p) {
  RetryPolicy r;
  r.num_retries = p.has_num_retries() ? p.num_retries().value() : 1;
  if (p.has_per_try_timeout()) r.per_try_timeout = toMillis(p.per_try_timeout());
  forEachListToken(p.retry_on(), [&r](std::string_view item) {
    if (item == "5xx") r.on_5xx = true;
    else if (item == "gateway-error") r.on_gateway_error = true;
    else if (item == "connect-failure") r.on_connect_failure = true;
    else if (item == "retriable-4xx") r.on_retriable_4xx = true;
    else if (item == "refused-stream") r.on_refused_stream = true;
    else if (item == "reset") r.on_reset = true;
    else if (item == "retriable-status-codes") r.on_retriable_status_codes = true;
    // gRPC policies: the grpc-status of a trailers-only answer (codes as in grpc_status.h).
    else if (item == "cancelled") r.grpc_codes |= 1u << 1;
    else if (item == "deadline-exceeded") r.grpc_codes |= 1u << 4;
    else if (item == "resource-exhausted") r.grpc_codes |= 1u << 8;
    else if (item == "internal") r.grpc_codes |= 1u << 13;
    else if (item == "unavailable") r.grpc_codes |= 1u << 14;
  });
  r.retriable_status_codes.assign(p.retriable_status_codes().begin(), p.retriable_status_codes().end());
  for (const auto& predicate : p.retry_host_predicate()) {
    using envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate;
    if (predicate.name() == "envoy.retry_host_predicates.previous_hosts" ||
        predicate.typed_config().type_url().ends_with(PreviousHostsPredicate::descriptor()->full_name()))
      r.previous_hosts = true;
    else
      throw std::invalid_argument("retry_host_predicate \"" + predicate.name() + "\" is not supported");
  }
  if (p.host_selection_retry_max_attempts() > 0) r.host_selection_max_attempts = uint32_t(p.host_selection_retry_max_attempts());
  if (p.has_retry_back_off()) {
    r.backoff_base = toMillis(p.retry_back_off().base_interval());
    r.backoff_max = p.retry_back_off().has_max_interval()
                        ? toMillis(p.retry_back_off().max_interval())
                        : r.backoff_base * 10;
  }
  return r;
}

}  // namespace

HeaderMatch compileHeaderMatch(const rv3::HeaderMatcher& h) {
  HeaderMatch m;
  m.name = lower(h.name());
  m.invert = h.invert_match();
  using H = rv3::HeaderMatcher;
  switch (h.header_match_specifier_case()) {
    case H::kExactMatch: m.value = StringMatch(StringMatch::Kind::Exact, h.exact_match()); break;
    case H::kSafeRegexMatch: m.value = StringMatch::regex(h.safe_regex_match()); break;
    case H::kPrefixMatch: m.value = StringMatch(StringMatch::Kind::Prefix, h.prefix_match()); break;
    case H::kSuffixMatch: m.value = StringMatch(StringMatch::Kind::Suffix, h.suffix_match()); break;
    case H::kContainsMatch: m.value = StringMatch(StringMatch::Kind::Contains, h.contains_match()); break;
    case H::kStringMatch: m.value = StringMatch::fromProto(h.string_match()); break;
    case H::kPresentMatch:
      m.kind = HeaderMatch::Kind::Present;
      m.present = h.present_match();
      break;
    case H::kRangeMatch:
      m.kind = HeaderMatch::Kind::Range;
      m.range_start = h.range_match().start();
      m.range_end = h.range_match().end();
      break;
    default:
      m.kind = HeaderMatch::Kind::Present;  // no specifier: the header must be present
      break;
  }
  return m;
}

namespace {

std::map<std::string, std::shared_ptr<const void>> compilePerFilter(
    const google::protobuf::Map<std::string, google::protobuf::Any>& configs, const PerFilterConfigParser& parser) {
  std::map<std::string, std::shared_ptr<const void>> out;
  if (!parser) return out;
  for (const auto& [name, any] : configs)
    if (auto parsed = parser(name, any)) out[name] = std::move(parsed);
  return out;
}

Route compileRoute(const rv3::Route& r, const PerFilterConfigParser& per_filter) {
  Route out;
  out.name = r.name();
  const auto& m = r.match();
  using M = rv3::RouteMatch;
  switch (m.path_specifier_case()) {
    case M::kPrefix: out.path_kind = Route::PathKind::Prefix; out.path = m.prefix(); break;
    case M::kPath: out.path_kind = Route::PathKind::Path; out.path = m.path(); break;
    case M::kSafeRegex:
      out.path_kind = Route::PathKind::Regex;
      out.path = m.safe_regex().regex();
      out.path_regex = compileRegex(out.path);
      break;
    case M::kPathSeparatedPrefix:
      out.path_kind = Route::PathKind::PathSeparatedPrefix;
      out.path = m.path_separated_prefix();
      break;
    case M::kConnectMatcher: out.path_kind = Route::PathKind::Connect; break;
    default: throw std::invalid_argument("match needs one of prefix, path, safe_regex, path_separated_prefix, connect_matcher");
  }
  if (m.has_case_sensitive()) out.case_sensitive = m.case_sensitive().value();
  if (!out.case_sensitive && out.path_kind != Route::PathKind::Regex) out.path = lower(out.path);
  for (const auto& h : m.headers()) out.headers.push_back(compileHeaderMatch(h));
  for (const auto& q : m.query_parameters()) {
    QueryMatch qm;
    qm.name = q.name();
    if (q.has_string_match()) qm.value = StringMatch::fromProto(q.string_match());
    out.query.push_back(std::move(qm));
  }
  if (m.has_runtime_fraction()) {
    const auto& f = m.runtime_fraction();
    out.fraction_per_million = perMillion(f.default_value());
    out.fraction_runtime_key = f.runtime_key();
    out.fraction_scale = perMillionScale(f.default_value());
  }

  out.request_headers = compileHeaderOperations(r.request_headers_to_add(), r.request_headers_to_remove());
  out.response_headers = compileHeaderOperations(r.response_headers_to_add(), r.response_headers_to_remove());
  out.filter_configs = compilePerFilter(r.typed_per_filter_config(), per_filter);

  switch (r.action_case()) {
    case rv3::Route::kRoute: {
      const auto& a = r.route();
      using A = rv3::RouteAction;
      switch (a.cluster_specifier_case()) {
        case A::kCluster: out.action = Route::Action::Cluster; out.cluster = a.cluster(); break;
        case A::kClusterHeader: out.action = Route::Action::ClusterHeader; out.cluster = lower(a.cluster_header()); break;
        case A::kWeightedClusters: {
          out.action = Route::Action::Weighted;
          for (const auto& c : a.weighted_clusters().clusters()) {
            WeightedTarget t;
            t.cluster = c.name();
            t.weight = c.has_weight() ? c.weight().value() : 0;
            t.request_headers = compileHeaderOperations(c.request_headers_to_add(), c.request_headers_to_remove());
            t.response_headers = compileHeaderOperations(c.response_headers_to_add(), c.response_headers_to_remove());
            out.total_weight += t.weight;
            out.weighted.push_back(std::move(t));
          }
          if (out.total_weight == 0) throw std::invalid_argument("weighted_clusters: weights sum to 0");
          break;
        }
        default: throw std::invalid_argument("route needs one of cluster, cluster_header, weighted_clusters");
      }
      out.prefix_rewrite = a.prefix_rewrite();
      if (a.has_regex_rewrite()) {
        out.regex_rewrite = compileRegex(a.regex_rewrite().pattern().regex());
        out.regex_rewrite_substitution = a.regex_rewrite().substitution();
      }
      if (a.host_rewrite_specifier_case() == A::kHostRewriteLiteral) out.host_rewrite = a.host_rewrite_literal();
      if (a.host_rewrite_specifier_case() == A::kAutoHostRewrite) out.auto_host_rewrite = a.auto_host_rewrite().value();
      if (a.has_timeout()) out.timeout = toMillis(a.timeout());
      if (a.has_idle_timeout()) out.idle_timeout = timeoutOrNever(a.idle_timeout());
      if (a.has_max_grpc_timeout()) out.max_grpc_timeout = toMillis(a.max_grpc_timeout());
      if (a.has_grpc_timeout_offset()) out.grpc_timeout_offset = toMillis(a.grpc_timeout_offset());
      if (out.max_grpc_timeout.value_or(std::chrono::milliseconds(0)).count() < 0)
        throw std::invalid_argument("max_grpc_timeout: must not be negative");
      if (out.grpc_timeout_offset.count() < 0) throw std::invalid_argument("grpc_timeout_offset: must not be negative");
      if (a.has_retry_policy()) out.retry = compileRetry(a.retry_policy());
      for (const auto& mp : a.request_mirror_policies()) {
        MirrorPolicy p;
        p.cluster = mp.cluster();
        p.cluster_header = lower(mp.cluster_header());
        if (p.cluster.empty() == p.cluster_header.empty())
          throw std::invalid_argument("request_mirror_policies: exactly one of cluster and cluster_header is required");
        if (mp.has_runtime_fraction()) p.per_million = perMillion(mp.runtime_fraction().default_value());
        out.mirrors.push_back(std::move(p));
      }
      for (const auto& hp : a.hash_policy()) {
        HashPolicy h;
        h.terminal = hp.terminal();
        if (hp.has_header()) { h.kind = HashPolicy::Kind::Header; h.name = lower(hp.header().header_name()); }
        else if (hp.has_cookie()) { h.kind = HashPolicy::Kind::Cookie; h.name = hp.cookie().name(); }
        else if (hp.has_connection_properties()) h.kind = HashPolicy::Kind::SourceIp;
        else if (hp.has_query_parameter()) { h.kind = HashPolicy::Kind::QueryParameter; h.name = hp.query_parameter().name(); }
        else continue;
        out.hash.push_back(std::move(h));
      }
      for (const auto& u : a.upgrade_configs())
        if (lower(u.upgrade_type()) == "websocket" && (!u.has_enabled() || u.enabled().value())) out.websocket = true;
      break;
    }
    case rv3::Route::kRedirect: {
      const auto& d = r.redirect();
      out.action = Route::Action::Redirect;
      if (d.https_redirect()) out.redirect_scheme = "https";
      if (!d.scheme_redirect().empty()) out.redirect_scheme = d.scheme_redirect();
      out.redirect_host = d.host_redirect();
      out.redirect_port = d.port_redirect();
      out.redirect_path = d.path_redirect();
      out.redirect_prefix = d.prefix_rewrite();
      if (d.has_regex_rewrite()) {
        out.regex_rewrite = compileRegex(d.regex_rewrite().pattern().regex());
        out.regex_rewrite_substitution = d.regex_rewrite().substitution();
      }
      out.strip_query = d.strip_query();
      static const unsigned kCodes[] = {301, 302, 303, 307, 308};
      out.redirect_code = kCodes[std::min<int>(int(d.response_code()), 4)];
      break;
    }
    case rv3::Route::kDirectResponse: {
      const auto& d = r.direct_response();
      out.action = Route::Action::DirectResponse;
      out.direct_status = d.status();
      if (out.direct_status < 200 || out.direct_status > 599)
        throw std::invalid_argument("direct_response.status " + std::to_string(out.direct_status) + " is not 200-599");
      if (d.has_body()) out.direct_body = readDataSource(d.body(), "direct_response.body", 4 * 1024 * 1024);
      break;
    }
    default: throw std::invalid_argument("route needs one of route, redirect, direct_response");
  }
  return out;
}

// Envoy's header value formatting for the few variables that make sense at route time is not
// needed for static values; values are used as written.
HeaderOperation::Action actionOf(const envoy::config::core::v3::HeaderValueOption& o) {
  using O = envoy::config::core::v3::HeaderValueOption;
  if (o.has_append()) return o.append().value() ? HeaderOperation::Action::AppendOrAdd : HeaderOperation::Action::OverwriteOrAdd;
  switch (o.append_action()) {
    case O::ADD_IF_ABSENT: return HeaderOperation::Action::AddIfAbsent;
    case O::OVERWRITE_IF_EXISTS_OR_ADD: return HeaderOperation::Action::OverwriteOrAdd;
    case O::OVERWRITE_IF_EXISTS: return HeaderOperation::Action::OverwriteIfExists;
    default: return HeaderOperation::Action::AppendOrAdd;
  }
}

}  // namespace

HeaderOperations compileHeaderOperations(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove) {
  HeaderOperations ops;
  for (const auto& o : add) ops.add.push_back(HeaderOperation{lower(o.header().key()), o.header().value(), actionOf(o)});
  for (const auto& r : remove) ops.remove.push_back(lower(r));
  return ops;
}

void HeaderOperations::apply(Fields& fields) const {
  for (const auto& name : remove) fields.erase(name);
  for (const auto& op : add) {
    bool exists = fields.find(op.name) != fields.end();
    switch (op.action) {
      case HeaderOperation::Action::AppendOrAdd: fields.insert(op.name, op.value); break;
      case HeaderOperation::Action::AddIfAbsent:
        if (!exists) fields.insert(op.name, op.value);
        break;
      case HeaderOperation::Action::OverwriteOrAdd: fields.set(op.name, op.value); break;
      case HeaderOperation::Action::OverwriteIfExists:
        if (exists) fields.set(op.name, op.value);
        break;
    }
  }
}

bool HeaderMatch::matches(const Fields& fields) const {
  // Several headers of one name are matched as one comma-joined value, as Envoy does.
  std::optional<std::string_view> first;
  std::string joined;
  size_t count = 0;
  fields.forEach(name, [&](std::string_view value) {
    if (count++ == 0) {
      first = value;
      return;
    }
    if (count == 2) joined.assign(first->data(), first->size());
    joined += ',';
    joined += value;
  });
  if (count <= 1) return matchesValue(first);
  return matchesValue(std::string_view(joined));
}

bool HeaderMatch::matchesValue(std::optional<std::string_view> value) const {
  bool result;
  if (kind == Kind::Present) {
    result = value.has_value() == present;
  } else if (!value) {
    return false;  // as Envoy: a value matcher never matches a missing header, inverted or not
  } else if (kind == Kind::Range) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
    result = ec == std::errc() && p == value->data() + value->size() && v >= range_start && v < range_end;
  } else {
    result = this->value.matches(*value);
  }
  return result != invert;
}

bool QueryMatch::matches(std::string_view query) const {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    if (key != name) continue;
    if (!value) return true;
    return value->matches(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
  }
  return false;
}

bool RetryPolicy::retriesStatus(unsigned status) const {
  if (on_5xx && status >= 500) return true;
  if (on_gateway_error && (status == 502 || status == 503 || status == 504)) return true;
  if (on_retriable_4xx && status == 409) return true;
  if (on_retriable_status_codes &&
      std::find(retriable_status_codes.begin(), retriable_status_codes.end(), status) != retriable_status_codes.end())
    return true;
  return false;
}

bool Route::matches(std::string_view method, std::string_view target, const Fields& fields, uint64_t random,
                    const RuntimeValues* runtime) const {
  if (path_kind == PathKind::Connect) {
    if (method != "CONNECT") return false;
  } else {
    std::string_view p = pathOnly(target);
    std::string folded;
    if (!case_sensitive && path_kind != PathKind::Regex) {  // Envoy ignores case_sensitive for regexes
      folded = lower(p);
      p = folded;
    }
    switch (path_kind) {
      case PathKind::Prefix:
        if (!p.starts_with(path)) return false;
        break;
      case PathKind::Path:
        if (p != path) return false;
        break;
      case PathKind::Regex:
        if (!re2::RE2::FullMatch(re2::StringPiece(p.data(), p.size()), *path_regex)) return false;
        break;
      case PathKind::PathSeparatedPrefix:
        if (!p.starts_with(path) || (p.size() > path.size() && p[path.size()] != '/')) return false;
        break;
      case PathKind::Connect: break;
    }
  }
  for (const auto& h : headers) {
    if (h.name.empty() || h.name.front() != ':') {
      if (!h.matches(fields)) return false;
      continue;
    }
    // HTTP/1.1 requests carry no pseudo-headers: matchers on them see the request line and Host
    // (Pilot matches VirtualService method, authority and scheme this way, as Envoy does).
    std::optional<std::string_view> pseudo;
    if (h.name == ":method") pseudo = method;
    else if (h.name == ":path") pseudo = target;
    else if (h.name == ":authority") {
      if (auto it = fields.find(boost::beast::http::field::host); it != fields.end()) pseudo = std::string_view(it->value());
    } else if (h.name == ":scheme") {
      auto it = fields.find("x-forwarded-proto");
      pseudo = it != fields.end() ? std::string_view(it->value()) : std::string_view("http");
    }
    if (!h.matchesValue(pseudo)) return false;
  }
  if (!query.empty()) {
    size_t q = target.find('?');
    std::string_view qs = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    if (size_t hash = qs.find('#'); hash != std::string_view::npos) qs = qs.substr(0, hash);
    for (const auto& qm : query)
      if (!qm.matches(qs)) return false;
  }
  if (fraction_per_million) {
    uint64_t limit = *fraction_per_million;
    if (runtime != nullptr && !fraction_runtime_key.empty())
      if (auto v = runtime->integer(fraction_runtime_key)) limit = std::min<uint64_t>(*v * fraction_scale, 1000000);
    if ((random % 1000000) >= limit) return false;
  }
  return true;
}

std::string Route::rewritePath(std::string_view target) const {
  std::string_view p = pathOnly(target);
  std::string_view rest = target.substr(p.size());
  if (regex_rewrite) {
    std::string s(p);
    re2::RE2::GlobalReplace(&s, *regex_rewrite, regex_rewrite_substitution);
    return s + std::string(rest);
  }
  if (!prefix_rewrite.empty() && (path_kind == PathKind::Prefix || path_kind == PathKind::Path ||
                                  path_kind == PathKind::PathSeparatedPrefix)) {
    size_t n = std::min(path.size(), p.size());
    return prefix_rewrite + std::string(p.substr(n)) + std::string(rest);
  }
  return std::string(target);
}

std::shared_ptr<const RouteTable> RouteTable::compile(const rv3::RouteConfiguration& config,
                                                      const PerFilterConfigParser& per_filter) {
  auto table = std::make_shared<RouteTable>();
  table->name_ = config.name();
  table->request_headers_ = compileHeaderOperations(config.request_headers_to_add(), config.request_headers_to_remove());
  table->response_headers_ = compileHeaderOperations(config.response_headers_to_add(), config.response_headers_to_remove());
  for (int i = 0; i < config.virtual_hosts_size(); ++i) {
    const auto& v = config.virtual_hosts(i);
    std::string where = "virtual_hosts[" + std::to_string(i) + "] (" + v.name() + ")";
    VirtualHost vh;
    vh.name = v.name();
    vh.require_tls = v.require_tls() != rv3::VirtualHost::NONE;
    vh.request_headers = compileHeaderOperations(v.request_headers_to_add(), v.request_headers_to_remove());
    vh.response_headers = compileHeaderOperations(v.response_headers_to_add(), v.response_headers_to_remove());
    if (v.has_retry_policy()) vh.retry = compileRetry(v.retry_policy());
    try {
      vh.filter_configs = compilePerFilter(v.typed_per_filter_config(), per_filter);
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ".typed_per_filter_config: " + e.what());
    }
    for (int j = 0; j < v.routes_size(); ++j) {
      try {
        vh.routes.push_back(compileRoute(v.routes(j), per_filter));
      } catch (const std::exception& e) {
        throw std::invalid_argument(where + ".routes[" + std::to_string(j) + "]: " + e.what());
      }
    }
    if (v.domains_size() == 0) throw std::invalid_argument(where + ".domains: at least one domain is required");
    size_t index = table->hosts_.size();
    for (const auto& d : v.domains()) {
      std::string domain = lower(d);
      vh.domains.push_back(domain);
      bool duplicate = false;
      if (domain == "*") {
        duplicate = table->any_.has_value();
        table->any_ = index;
      } else if (domain.starts_with("*")) {
        std::string suffix = domain.substr(1);
        for (const auto& [existing, i] : table->suffixes_) duplicate |= existing == suffix;
        table->suffixes_.emplace_back(suffix, index);
      } else if (domain.ends_with("*")) {
        std::string prefix = domain.substr(0, domain.size() - 1);
        for (const auto& [existing, i] : table->prefixes_) duplicate |= existing == prefix;
        table->prefixes_.emplace_back(prefix, index);
      } else {
        duplicate = !table->exact_.emplace(domain, index).second;
      }
      if (duplicate) throw std::invalid_argument(where + ".domains: \"" + domain + "\" is already used by another virtual host");
    }
    table->hosts_.push_back(std::move(vh));
  }
  auto longest = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
  std::stable_sort(table->suffixes_.begin(), table->suffixes_.end(), longest);
  std::stable_sort(table->prefixes_.begin(), table->prefixes_.end(), longest);
  return table;
}

const VirtualHost* RouteTable::findVirtualHost(std::string_view host_in) const {
  // Most Host headers are already lower case: fold only when needed.
  bool upper = std::any_of(host_in.begin(), host_in.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  std::string folded = upper ? lower(host_in) : std::string();
  std::string_view host = upper ? std::string_view(folded) : host_in;
  if (auto it = exact_.find(host); it != exact_.end()) return &hosts_[it->second];
  for (const auto& [suffix, index] : suffixes_)
    if (host.size() > suffix.size() && host.ends_with(suffix)) return &hosts_[index];
  for (const auto& [prefix, index] : prefixes_)
    if (host.size() > prefix.size() && host.starts_with(prefix)) return &hosts_[index];
  return any_ ? &hosts_[*any_] : nullptr;
}

const Route* RouteTable::findRoute(const VirtualHost& vh, std::string_view method, std::string_view target,
                                   const Fields& fields, uint64_t random, const RuntimeValues* runtime) const {
  for (const auto& r : vh.routes)
    if (r.matches(method, target, fields, random, runtime)) return &r;
  return nullptr;
}

}  // namespace monomesh::proxy
