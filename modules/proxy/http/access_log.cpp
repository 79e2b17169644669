#include "proxy/http/access_log.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <stdexcept>
#include <unistd.h>

#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "observe/json_text.h"

namespace monomesh::proxy {

// %START_TIME(...)%'s format, split where the sub-second digits go: strftime text (rendered once
// per second per thread) and fractions (%f, %1f..%9f, and absl's %E<n>S seconds).
struct AccessLogFormatter::TimePart {
  bool fraction = false;
  std::string strftime_text;
  int digits = 0;
};

struct AccessLogFormatter::Piece {
  enum class Kind {
    Literal, StartTime, Request, Response, Trailer, Protocol, ResponseCode, ResponseFlags, BytesReceived, BytesSent,
    Duration, ResponseDuration, UpstreamHost, UpstreamCluster, UpstreamLocal, UpstreamTransportFailure,
    DownstreamRemote, DownstreamRemoteNoPort, DownstreamLocal, DownstreamLocalNoPort, RequestedServerName,
    RouteName, Method, DynamicMetadata, Hostname
  } kind = Kind::Literal;
  std::string text, alt;  // literal text, or header name and fallback header name
  // A header name that is a pseudo-header, resolved once: its value comes from the entry.
  enum class Pseudo { None, Method, Path, Authority } text_pseudo = Pseudo::None, alt_pseudo = Pseudo::None;
  size_t max_length = 0;
  std::vector<TimePart> time;
  bool numeric() const {
    return kind == Kind::ResponseCode || kind == Kind::BytesReceived || kind == Kind::BytesSent || kind == Kind::Duration ||
           kind == Kind::ResponseDuration;
  }
};

namespace {

using Piece = AccessLogFormatter::Piece;
using TimePart = AccessLogFormatter::TimePart;

std::vector<TimePart> compileTimeFormat(const std::string& f) {
  std::vector<TimePart> parts;
  std::string text;
  auto flushText = [&] {
    if (!text.empty()) parts.push_back(TimePart{false, std::move(text), 0});
    text.clear();
  };
  auto fraction = [&](int digits) {
    flushText();
    parts.push_back(TimePart{true, {}, digits});
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 == f.size()) {
      text += f[i];
      continue;
    }
    char n = f[i + 1];
    if (n == 'f') {
      fraction(9);
      i += 1;
    } else if (n >= '1' && n <= '9' && i + 2 < f.size() && f[i + 2] == 'f') {
      fraction(n - '0');
      i += 2;
    } else if (n == 'E' && i + 3 < f.size() && f[i + 3] == 'S' &&
               (std::isdigit(static_cast<unsigned char>(f[i + 2])) || f[i + 2] == '*')) {
      int digits = f[i + 2] == '*' ? 9 : f[i + 2] - '0';
      text += "%S";
      if (digits > 0) {
        text += '.';
        fraction(digits);
      }
      i += 3;
    } else {
      text += f[i];
      text += n;  // "%%" stays for strftime too
      i += 1;
    }
  }
  flushText();
  return parts;
}

const std::vector<TimePart>& defaultTimeFormat() {
  static const std::vector<TimePart> parts = compileTimeFormat("%Y-%m-%dT%H:%M:%E3SZ");
  return parts;
}

void appendTime(std::chrono::system_clock::time_point tp, const std::vector<TimePart>& parts, std::string& out) {
  auto secs = std::chrono::floor<std::chrono::seconds>(tp);
  int64_t epoch = secs.time_since_epoch().count();
  uint64_t nanos = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(tp - secs).count());
  // strftime once per second per thread and part: a small direct-mapped cache.
  // The format is compared too: a new formatter may sit where a released one was.
  struct Cached {
    const TimePart* part = nullptr;
    int64_t second = 0;
    std::string format, text;
  };
  thread_local std::array<Cached, 16> cache;
  for (const auto& p : parts) {
    if (p.fraction) {
      char digits[10];
      uint64_t v = nanos;
      for (int i = 9; i > p.digits; --i) v /= 10;
      for (int i = p.digits - 1; i >= 0; --i) {
        digits[i] = char('0' + v % 10);
        v /= 10;
      }
      out.append(digits, size_t(p.digits));
      continue;
    }
    Cached& c = cache[(reinterpret_cast<uintptr_t>(&p) >> 4) % cache.size()];
    if (c.part != &p || c.second != epoch || c.format != p.strftime_text) {
      std::time_t t = std::time_t(epoch);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[256];
      size_t n = std::strftime(buf, sizeof(buf), p.strftime_text.c_str(), &tm);
      c.part = &p;
      c.second = epoch;
      c.format = p.strftime_text;
      c.text.assign(buf, n);
    }
    out += c.text;
  }
}

Piece::Pseudo pseudoOf(const std::string& name) {
  if (name == ":method") return Piece::Pseudo::Method;
  if (name == ":path") return Piece::Pseudo::Path;
  if (name == ":authority") return Piece::Pseudo::Authority;
  return Piece::Pseudo::None;
}

std::optional<std::string_view> lookupHeader(const HeaderMap* f, const std::string& n, Piece::Pseudo pseudo,
                                             const AccessLogEntry& e) {
  auto nonEmpty = [](std::string_view v) { return v.empty() ? std::nullopt : std::optional<std::string_view>(v); };
  if (pseudo == Piece::Pseudo::Method) return nonEmpty(e.method);
  if (pseudo == Piece::Pseudo::Path) return nonEmpty(e.path);
  if (f == nullptr) return std::nullopt;
  auto it = pseudo == Piece::Pseudo::Authority ? f->find(boost::beast::http::field::host) : f->find(n);
  if (it == f->end()) return std::nullopt;
  return it->value();
}

std::optional<std::string_view> headerValue(const HeaderMap* f, const Piece& p, const AccessLogEntry& e) {
  if (auto v = lookupHeader(f, p.text, p.text_pseudo, e)) return v;
  if (!p.alt.empty()) return lookupHeader(f, p.alt, p.alt_pseudo, e);
  return std::nullopt;
}

// "10.0.0.1:80", "[::1]:80"; without the port "10.0.0.1", "::1" (Envoy's forms). IPv4 without
// inet_ntop, whose sprintf would cost more than the rest of the line.
bool appendEndpoint(const boost::asio::ip::tcp::endpoint& ep, bool with_port, std::string& out) {
  if (ep.port() == 0) return false;
  char buf[64];
  char* p = buf;
  auto decimal = [&p](unsigned v) { p = std::to_chars(p, p + 8, v).ptr; };
  if (ep.address().is_v4()) {
    auto bytes = ep.address().to_v4().to_bytes();
    for (size_t i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      decimal(bytes[i]);
    }
  } else {
    std::string a = ep.address().to_string();
    if (with_port) *p++ = '[';
    p = std::copy(a.begin(), a.end(), p);
    if (with_port) *p++ = ']';
  }
  if (with_port) {
    *p++ = ':';
    decimal(ep.port());
  }
  out.append(buf, p);
  return true;
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "-";
  return buf;
}

// Appends the piece's value; false (nothing appended) when it has none.
bool appendValue(const Piece& p, const AccessLogEntry& e, std::string& out) {
  auto text = [&](std::string_view v) {
    if (v.empty()) return false;
    out.append(v);
    return true;
  };
  auto number = [&](uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, end);
    return true;
  };
  auto header = [&](const HeaderMap* f) {
    auto v = headerValue(f, p, e);
    return v ? (out.append(*v), true) : false;
  };
  switch (p.kind) {
    case Piece::Kind::Literal: out += p.text; return true;
    case Piece::Kind::StartTime: appendTime(e.start, p.time.empty() ? defaultTimeFormat() : p.time, out); return true;
    case Piece::Kind::Request: return header(e.request_headers);
    case Piece::Kind::Response: return header(e.response_headers);
    case Piece::Kind::Trailer: return header(e.response_trailers);
    case Piece::Kind::Protocol: return text(e.protocol);
    case Piece::Kind::ResponseCode: return number(e.response_code);
    case Piece::Kind::ResponseFlags:  // "-" is Envoy's value for no flag, also in typed JSON
      out.append(e.response_flags.empty() ? std::string_view("-") : e.response_flags);
      return true;
    case Piece::Kind::BytesReceived: return number(e.bytes_received);
    case Piece::Kind::BytesSent: return number(e.bytes_sent);
    case Piece::Kind::Duration: return number(uint64_t(e.duration.count()));
    case Piece::Kind::ResponseDuration: return e.response_duration && number(uint64_t(e.response_duration->count()));
    case Piece::Kind::UpstreamHost: return text(e.upstream_host);
    case Piece::Kind::UpstreamCluster: return text(e.upstream_cluster);
    case Piece::Kind::UpstreamLocal: return appendEndpoint(e.upstream_local, true, out);
    case Piece::Kind::UpstreamTransportFailure: return text(e.upstream_transport_failure_reason);
    case Piece::Kind::DownstreamRemote: return appendEndpoint(e.downstream_remote, true, out);
    case Piece::Kind::DownstreamRemoteNoPort: return appendEndpoint(e.downstream_remote, false, out);
    case Piece::Kind::DownstreamLocal: return appendEndpoint(e.downstream_local, true, out);
    case Piece::Kind::DownstreamLocalNoPort: return appendEndpoint(e.downstream_local, false, out);
    case Piece::Kind::RequestedServerName: return text(e.requested_server_name);
    case Piece::Kind::RouteName: return text(e.route_name);
    case Piece::Kind::Method: return text(e.method);
    case Piece::Kind::DynamicMetadata: return false;  // no filter sets dynamic metadata
    case Piece::Kind::Hostname: return text(p.text);
  }
  return false;
}

// Appends the piece, "-" when it has no value, cut to its length limit.
void appendPiece(const Piece& p, const AccessLogEntry& e, std::string& out) {
  size_t before = out.size();
  if (!appendValue(p, e, out)) out += '-';
  if (p.max_length && out.size() - before > p.max_length) out.resize(before + p.max_length);
}

}  // namespace

AccessLogFormatter::~AccessLogFormatter() = default;
AccessLogFormatter::AccessLogFormatter(AccessLogFormatter&&) noexcept = default;

const std::string& AccessLogFormatter::defaultFormat() {
  static const std::string f =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
      "%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
      "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
      "\"%UPSTREAM_HOST%\"\n";
  return f;
}

AccessLogFormatter::AccessLogFormatter(const std::string& format) {
  size_t i = 0;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) pieces_.push_back(Piece{Piece::Kind::Literal, literal});
    literal.clear();
  };
  while (i < format.size()) {
    if (format[i] != '%') {
      literal += format[i++];
      continue;
    }
    // An operator's argument may itself hold '%' (strftime in START_TIME(...)): skip to its ')'.
    size_t search = i + 1;
    size_t open = format.find_first_of("(%", i + 1);
    if (open != std::string::npos && format[open] == '(') {
      size_t close = format.find(')', open);
      if (close == std::string::npos) throw std::invalid_argument("format: unterminated operator at offset " + std::to_string(i));
      search = close;
    }
    size_t end = format.find('%', search);
    if (end == std::string::npos) throw std::invalid_argument("format: unterminated operator at offset " + std::to_string(i));
    std::string op = format.substr(i + 1, end - i - 1);
    i = end + 1;
    if (op.empty()) {  // "%%" is a literal percent sign
      literal += '%';
      continue;
    }
    flush();
    Piece p;
    // Optional ":N" length limit after a closing parenthesis.
    if (size_t close = op.rfind(')'); close != std::string::npos && close + 1 < op.size() && op[close + 1] == ':') {
      std::string digits = op.substr(close + 2);
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p.max_length);
      if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty())
        throw std::invalid_argument("format: bad length limit \"" + digits + "\" in %" + op + "%");
      op = op.substr(0, close + 1);
    }
    auto arg = [&](const std::string& prefix) -> std::optional<std::string> {
      if (op.rfind(prefix + "(", 0) == 0 && op.back() == ')') return op.substr(prefix.size() + 1, op.size() - prefix.size() - 2);
      return std::nullopt;
    };
    auto lower = [](std::string s) {
      for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    auto headers = [&](Piece::Kind kind, const std::string& a) {
      if (a.empty()) throw std::invalid_argument("format: %" + op + "% needs a header name");
      p.kind = kind;
      size_t q = a.find('?');
      p.text = lower(a.substr(0, q));
      if (q != std::string::npos) p.alt = lower(a.substr(q + 1));
      p.text_pseudo = pseudoOf(p.text);
      p.alt_pseudo = pseudoOf(p.alt);
    };
    using K = Piece::Kind;
    static const std::pair<std::string_view, K> kPlain[] = {
        {"START_TIME", K::StartTime}, {"PROTOCOL", K::Protocol}, {"RESPONSE_CODE", K::ResponseCode},
        {"RESPONSE_FLAGS", K::ResponseFlags}, {"BYTES_RECEIVED", K::BytesReceived}, {"BYTES_SENT", K::BytesSent},
        {"DURATION", K::Duration}, {"RESPONSE_DURATION", K::ResponseDuration}, {"UPSTREAM_HOST", K::UpstreamHost},
        {"UPSTREAM_CLUSTER", K::UpstreamCluster}, {"UPSTREAM_LOCAL_ADDRESS", K::UpstreamLocal},
        {"UPSTREAM_REMOTE_ADDRESS", K::UpstreamHost},
        {"UPSTREAM_TRANSPORT_FAILURE_REASON", K::UpstreamTransportFailure},
        {"DOWNSTREAM_REMOTE_ADDRESS", K::DownstreamRemote}, {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", K::DownstreamRemote},
        {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", K::DownstreamRemoteNoPort},
        {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", K::DownstreamRemoteNoPort},
        {"DOWNSTREAM_LOCAL_ADDRESS", K::DownstreamLocal}, {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", K::DownstreamLocalNoPort},
        {"REQUESTED_SERVER_NAME", K::RequestedServerName}, {"ROUTE_NAME", K::RouteName}, {"METHOD", K::Method},
        {"HOSTNAME", K::Hostname}};
    auto plain = std::find_if(std::begin(kPlain), std::end(kPlain), [&](const auto& e) { return e.first == op; });
    if (plain != std::end(kPlain)) {
      p.kind = plain->second;
      if (p.kind == K::Hostname) p.text = hostName();
    } else if (auto a = arg("START_TIME")) {
      p.kind = K::StartTime;
      p.time = compileTimeFormat(*a);
    } else if (auto a = arg("REQ") ? arg("REQ") : arg("REQUEST_HEADER")) {  // later Envoys' long names too
      headers(K::Request, *a);
    } else if (auto a = arg("RESP") ? arg("RESP") : arg("RESPONSE_HEADER")) {
      headers(K::Response, *a);
    } else if (auto a = arg("TRAILER") ? arg("TRAILER") : arg("RESPONSE_TRAILER")) {
      headers(K::Trailer, *a);
    } else if (auto a = arg("DYNAMIC_METADATA")) {
      if (a->empty() || a->front() == ':') throw std::invalid_argument("format: %" + op + "% needs a namespace");
      p.kind = K::DynamicMetadata;
    } else {
      throw std::invalid_argument("format: unknown operator %" + op + "%");
    }
    pieces_.push_back(std::move(p));
  }
  flush();
}

void AccessLogFormatter::format(const AccessLogEntry& e, std::string& out) const {
  for (const auto& p : pieces_) appendPiece(p, e, out);
}

void AccessLogFormatter::formatJsonValue(const AccessLogEntry& e, std::string& out) const {
  thread_local std::string value;
  value.clear();
  if (pieces_.size() == 1 && pieces_[0].kind != Piece::Kind::Literal) {
    const Piece& p = pieces_[0];
    if (!appendValue(p, e, value)) {
      out += "null";
      return;
    }
    if (p.max_length && value.size() > p.max_length) value.resize(p.max_length);
    if (p.numeric()) {
      out += value;
      return;
    }
  } else {
    format(e, value);
  }
  out += '"';
  observe::appendJsonEscaped(out, value);
  out += '"';
}

// One key of a JSON format: an operator string, a constant (number, bool, null), or an object.
struct AccessLogger::JsonNode {
  std::string key;  // already written as `"key":`
  std::optional<AccessLogFormatter> format;
  std::string constant;
  std::vector<JsonNode> object;
};

namespace {

std::vector<AccessLogger::JsonNode> compileJson(const google::protobuf::Struct& s, const std::string& path);

}  // namespace

std::shared_ptr<const AccessLogger> AccessLogger::create(const envoy::config::accesslog::v3::AccessLog& config,
                                                         AccessLogManager* files) {
  namespace file = envoy::extensions::access_loggers::file::v3;
  namespace stream = envoy::extensions::access_loggers::stream::v3;
  std::shared_ptr<AccessLogger> logger(new AccessLogger());
  if (config.has_filter()) {
    try {
      logger->filter_ = AccessLogFilter::compile(config.filter());
    } catch (const std::invalid_argument& e) {
      std::string what = e.what();
      throw std::invalid_argument("filter" + std::string(what.starts_with(":") ? "" : ".") + what);
    }
  }
  const auto& any = config.typed_config();
  std::string format = AccessLogFormatter::defaultFormat();
  const google::protobuf::Struct* json = nullptr;
  std::string json_field;
  std::string path;
  file::FileAccessLog f;
  stream::StdoutAccessLog so;
  stream::StderrAccessLog se;
  auto fromFormatString = [&](const envoy::config::core::v3::SubstitutionFormatString& s, const std::string& at) {
    if (s.has_json_format()) {
      json = &s.json_format();
      json_field = at + ".json_format";
      logger->typed_json_ = true;  // SubstitutionFormatString's JSON is typed
    } else if (!s.text_format().empty()) {
      format = s.text_format();
    } else if (s.has_text_format_source()) {
      format = s.text_format_source().inline_string();
    }
  };
  if (any.type_url().ends_with("/envoy.extensions.access_loggers.file.v3.FileAccessLog") && any.UnpackTo(&f)) {
    if (f.path().empty()) throw std::invalid_argument("typed_config.path: required");
    path = f.path();
    if (!f.format().empty()) format = f.format();
    if (f.has_log_format()) fromFormatString(f.log_format(), "typed_config.log_format");
    if (f.has_json_format()) {
      json = &f.json_format();
      json_field = "typed_config.json_format";
    }
    if (f.has_typed_json_format()) {
      json = &f.typed_json_format();
      json_field = "typed_config.typed_json_format";
      logger->typed_json_ = true;
    }
  } else if (any.type_url().ends_with("/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog") && any.UnpackTo(&so)) {
    path = "/dev/stdout";
    if (so.has_log_format()) fromFormatString(so.log_format(), "typed_config.log_format");
  } else if (any.type_url().ends_with("/envoy.extensions.access_loggers.stream.v3.StderrAccessLog") && any.UnpackTo(&se)) {
    path = "/dev/stderr";
    if (se.has_log_format()) fromFormatString(se.log_format(), "typed_config.log_format");
  } else {
    throw std::invalid_argument("access_log " + config.name() + ": unsupported logger " + any.type_url());
  }
  if (json != nullptr) {
    logger->json_ = std::make_shared<const std::vector<JsonNode>>(compileJson(*json, json_field));
  } else {
    try {
      logger->text_ = std::make_unique<AccessLogFormatter>(format);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("typed_config: ") + e.what());
    }
  }
  // Opened last: a config refused above leaves no file behind.
  logger->file_ = (files ? *files : AccessLogManager::synchronousManager()).open(path);
  return logger;
}

namespace {

std::vector<AccessLogger::JsonNode> compileJson(const google::protobuf::Struct& s, const std::string& path) {
  // Keys in sorted order, so lines are stable (protobuf's Struct is a hash map).
  std::vector<std::string> keys;
  for (const auto& [key, value] : s.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  std::vector<AccessLogger::JsonNode> out;
  for (const auto& key : keys) {
    const auto& value = s.fields().at(key);
    AccessLogger::JsonNode node;
    node.key = '"' + observe::jsonEscape(key) + "\":";
    std::string at = path + "." + key;
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        try {
          node.format.emplace(value.string_value());
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(at + ": " + e.what());
        }
        break;
      case google::protobuf::Value::kNumberValue: {
        char buf[32];
        double d = value.number_value();
        auto [end, ec] = d == double(int64_t(d)) ? std::to_chars(buf, buf + sizeof(buf), int64_t(d))
                                                 : std::to_chars(buf, buf + sizeof(buf), d);
        node.constant.assign(buf, end);
        break;
      }
      case google::protobuf::Value::kBoolValue: node.constant = value.bool_value() ? "true" : "false"; break;
      case google::protobuf::Value::kNullValue: node.constant = "null"; break;
      case google::protobuf::Value::kStructValue: node.object = compileJson(value.struct_value(), at); break;
      default: throw std::invalid_argument(at + ": lists are not supported in a JSON access log format");
    }
    out.push_back(std::move(node));
  }
  return out;
}

}  // namespace

void AccessLogger::appendJson(const std::vector<JsonNode>& object, const AccessLogEntry& entry, std::string& line) const {
  line += '{';
  for (size_t i = 0; i < object.size(); ++i) {
    const JsonNode& n = object[i];
    if (i) line += ',';
    line += n.key;
    if (n.format) {
      if (typed_json_) {
        n.format->formatJsonValue(entry, line);
      } else {
        thread_local std::string value;
        value.clear();
        n.format->format(entry, value);
        line += '"';
        observe::appendJsonEscaped(line, value);
        line += '"';
      }
    } else if (!n.constant.empty()) {
      line += n.constant;
    } else {
      appendJson(n.object, entry, line);
    }
  }
  line += '}';
}

void AccessLogger::log(const AccessLogEntry& entry) const {
  if (filter_ && !filter_->evaluate(entry)) return;
  thread_local std::string line;
  line.clear();
  if (text_) {
    text_->format(entry, line);
  } else {
    appendJson(*json_, entry, line);
    line += '\n';
  }
  file_->write(line);
}

}  // namespace monomesh::proxy
