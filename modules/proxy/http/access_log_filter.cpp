#include "proxy/http/access_log_filter.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "proxy/config/runtime_values.h"
#include "proxy/http/access_log.h"

namespace monomesh::proxy {

namespace v3 = envoy::config::accesslog::v3;

namespace {

// Envoy's response flag short names (ResponseFlagFilter.flags accepts these only).
constexpr std::string_view kResponseFlags[] = {"LH",   "UH",    "UT",   "LR",   "UR",   "UF",  "UC", "UO", "NR", "DI",
                                               "FI",   "RL",    "UAEX", "RLSE", "DC",   "URX", "SI", "IH", "DPE", "UMSDR",
                                               "RFCF", "NFCF",  "DT",   "UPE",  "NC",   "OM",  "DF", "DO", "DR"};

bool hasFlag(std::string_view flags, std::string_view flag) {
  while (!flags.empty()) {
    size_t comma = flags.find(',');
    if (flags.substr(0, comma) == flag) return true;
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string_view> headerOf(const HeaderMap* map, std::string_view name) {
  if (map == nullptr) return std::nullopt;
  auto it = map->find(name);
  if (it == map->end()) return std::nullopt;
  return it->value();
}

// Envoy's Grpc::Utility::httpToGrpcStatus.
int httpToGrpcStatus(unsigned code) {
  switch (code) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

// grpc-status from the trailers, else the headers, else inferred from the HTTP status (Envoy's
// Grpc::Common::getGrpcStatus); -1 for a value that is not a known status.
int grpcStatusOf(const AccessLogEntry& e) {
  auto value = headerOf(e.response_trailers, "grpc-status");
  if (!value) value = headerOf(e.response_headers, "grpc-status");
  if (!value) return e.response_code ? httpToGrpcStatus(e.response_code) : 2;
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || ptr != value->data() + value->size() || n > 16) return -1;
  return int(n);
}

// x-request-id's trace mark, as Envoy's UuidUtils::isTraceableUuid reads it (character 14 of a
// UUID: 'a' forced, 'b' sampled, 'c' client).
bool traceable(const AccessLogEntry& e) {
  auto id = headerOf(e.request_headers, "x-request-id");
  if (!id || id->size() != 36) return false;
  char c = (*id)[14];
  return c == 'a' || c == 'b' || c == 'c';
}

uint64_t denominatorOf(envoy::type::v3::FractionalPercent::DenominatorType d) {
  switch (d) {
    case envoy::type::v3::FractionalPercent::TEN_THOUSAND: return 10000;
    case envoy::type::v3::FractionalPercent::MILLION: return 1000000;
    default: return 100;
  }
}

}  // namespace

AccessLogFilter AccessLogFilter::compile(const v3::AccessLogFilter& filter) { return compileAt(filter, ""); }

AccessLogFilter AccessLogFilter::compileAt(const v3::AccessLogFilter& filter, const std::string& path) {
  auto fail = [&](const std::string& field, const std::string& why) -> std::invalid_argument {
    std::string at = path.empty() ? field : field.empty() ? path : path + "." + field;
    return std::invalid_argument(at + ": " + why);
  };
  AccessLogFilter f;
  auto comparison = [&](const std::string& name, const v3::ComparisonFilter& c, bool present) {
    std::string at = name + ".comparison";
    if (!present) throw fail(at, "required");
    if (!v3::ComparisonFilter::Op_IsValid(c.op())) throw fail(at + ".op", "unknown operator " + std::to_string(c.op()));
    if (!c.has_value()) throw fail(at + ".value", "required");
    // Envoy's RuntimeUInt32 requires the key (validate: min_len 1).
    if (c.value().runtime_key().empty()) throw fail(at + ".value.runtime_key", "required");
    f.op_ = c.op();
    f.default_value_ = c.value().default_value();
    f.runtime_key_ = c.value().runtime_key();
  };
  auto children = [&](const std::string& name, const auto& list) {
    // Envoy's validation: and_filter and or_filter take at least two filters.
    if (list.size() < 2) throw fail(name + ".filters", "needs at least 2 filters, has " + std::to_string(list.size()));
    for (int i = 0; i < list.size(); ++i)
      f.children_.push_back(compileAt(list[i], (path.empty() ? "" : path + ".") + name + ".filters[" + std::to_string(i) + "]"));
  };
  switch (filter.filter_specifier_case()) {
    case v3::AccessLogFilter::kStatusCodeFilter:
      f.kind_ = Kind::StatusCode;
      comparison("status_code_filter", filter.status_code_filter().comparison(), filter.status_code_filter().has_comparison());
      break;
    case v3::AccessLogFilter::kDurationFilter:
      f.kind_ = Kind::Duration;
      comparison("duration_filter", filter.duration_filter().comparison(), filter.duration_filter().has_comparison());
      break;
    case v3::AccessLogFilter::kNotHealthCheckFilter: f.kind_ = Kind::NotHealthCheck; break;
    case v3::AccessLogFilter::kTraceableFilter: f.kind_ = Kind::Traceable; break;
    case v3::AccessLogFilter::kRuntimeFilter: {
      const auto& r = filter.runtime_filter();
      f.kind_ = Kind::Runtime;
      if (r.runtime_key().empty()) throw fail("runtime_filter.runtime_key", "required");
      f.runtime_key_ = r.runtime_key();
      if (r.has_percent_sampled()) {
        if (!envoy::type::v3::FractionalPercent::DenominatorType_IsValid(r.percent_sampled().denominator()))
          throw fail("runtime_filter.percent_sampled.denominator", "unknown denominator");
        f.numerator_ = r.percent_sampled().numerator();
        f.denominator_ = denominatorOf(r.percent_sampled().denominator());
      }
      f.independent_randomness_ = r.use_independent_randomness();
      break;
    }
    case v3::AccessLogFilter::kAndFilter:
      f.kind_ = Kind::And;
      children("and_filter", filter.and_filter().filters());
      break;
    case v3::AccessLogFilter::kOrFilter:
      f.kind_ = Kind::Or;
      children("or_filter", filter.or_filter().filters());
      break;
    case v3::AccessLogFilter::kHeaderFilter:
      f.kind_ = Kind::Header;
      if (!filter.header_filter().has_header()) throw fail("header_filter.header", "required");
      if (filter.header_filter().header().name().empty()) throw fail("header_filter.header.name", "required");
      try {
        f.header_ = std::make_shared<const HeaderMatch>(compileHeaderMatch(filter.header_filter().header()));
      } catch (const std::exception& e) {
        throw fail("header_filter.header", e.what());
      }
      break;
    case v3::AccessLogFilter::kResponseFlagFilter: {
      f.kind_ = Kind::ResponseFlag;
      const auto& flags = filter.response_flag_filter().flags();
      for (int i = 0; i < flags.size(); ++i) {
        if (std::find(std::begin(kResponseFlags), std::end(kResponseFlags), flags[i]) == std::end(kResponseFlags))
          throw fail("response_flag_filter.flags[" + std::to_string(i) + "]", "unknown response flag \"" + flags[i] + "\"");
        f.flags_.push_back(flags[i]);
      }
      break;
    }
    case v3::AccessLogFilter::kGrpcStatusFilter: {
      f.kind_ = Kind::GrpcStatus;
      const auto& g = filter.grpc_status_filter();
      for (int i = 0; i < g.statuses_size(); ++i) {
        int s = g.statuses(i);
        if (!v3::GrpcStatusFilter::Status_IsValid(s))
          throw fail("grpc_status_filter.statuses[" + std::to_string(i) + "]", "unknown status " + std::to_string(s));
        f.grpc_statuses_ |= 1u << s;
      }
      f.exclude_ = g.exclude();
      break;
    }
    case v3::AccessLogFilter::kExtensionFilter:
      throw fail("extension_filter", "not supported (extension \"" + filter.extension_filter().name() + "\")");
    case v3::AccessLogFilter::kMetadataFilter: throw fail("metadata_filter", "not supported");
    case v3::AccessLogFilter::kLogTypeFilter: throw fail("log_type_filter", "not supported");
    case v3::AccessLogFilter::FILTER_SPECIFIER_NOT_SET: throw fail("", "no filter given (filter_specifier is required)");
  }
  return f;
}

bool AccessLogFilter::compare(uint64_t actual, const AccessLogEntry& e) const {
  uint64_t expected = default_value_;
  if (e.runtime)
    if (auto v = e.runtime->integer(runtime_key_)) expected = *v;
  switch (op_) {
    case v3::ComparisonFilter::GE: return actual >= expected;
    case v3::ComparisonFilter::LE: return actual <= expected;
    default: return actual == expected;
  }
}

bool AccessLogFilter::evaluate(const AccessLogEntry& e) const {
  switch (kind_) {
    case Kind::StatusCode: return compare(e.response_code, e);
    case Kind::Duration: return compare(uint64_t(e.duration.count()), e);
    case Kind::NotHealthCheck: return !e.health_check;
    case Kind::Traceable: return traceable(e);
    case Kind::Runtime: {
      // The request id spreads the decision consistently across proxies (Envoy's uuidModBy:
      // its first 8 hex digits), unless independent randomness is asked for.
      uint64_t random = e.random;
      auto id = headerOf(e.request_headers, "x-request-id");
      if (!independent_randomness_ && id && id->size() >= 8) {
        uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(id->data(), id->data() + 8, v, 16);
        if (ec == std::errc() && ptr == id->data() + 8) random = v;
      }
      uint64_t numerator = numerator_, denominator = denominator_;
      if (e.runtime)
        if (auto v = e.runtime->integer(runtime_key_)) {
          if (*v > 100) return true;  // Envoy: an integer runtime value is a percentage
          numerator = *v;
          denominator = 100;
        }
      return random % denominator < numerator;
    }
    case Kind::And:
      for (const auto& c : children_)
        if (!c.evaluate(e)) return false;
      return true;
    case Kind::Or:
      for (const auto& c : children_)
        if (c.evaluate(e)) return true;
      return false;
    case Kind::Header: {
      static const HeaderMap kNone;
      const std::string& name = header_->name;
      if (name == ":method") return header_->matchesValue(e.method);
      if (name == ":path") return header_->matchesValue(e.path);
      if (name == ":authority") return header_->matchesValue(headerOf(e.request_headers, "host"));
      return header_->matches(e.request_headers ? *e.request_headers : kNone);
    }
    case Kind::ResponseFlag:
      if (flags_.empty()) return !e.response_flags.empty();
      for (const auto& flag : flags_)
        if (hasFlag(e.response_flags, flag)) return true;
      return false;
    case Kind::GrpcStatus: {
      int s = grpcStatusOf(e);
      bool found = s >= 0 && (grpc_statuses_ & (1u << s)) != 0;
      return exclude_ ? !found : found;
    }
  }
  return true;
}

}  // namespace monomesh::proxy
