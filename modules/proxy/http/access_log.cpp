#include "proxy/http/access_log.h"

#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "observe/json_text.h"
#include "observe/time_text.h"

namespace monomesh::proxy {

namespace {

std::string formatTime(std::chrono::system_clock::time_point tp, const std::string& fmt) {
  return fmt.empty() ? observe::formatUtcTime(tp, 3) : observe::formatUtcTime(tp, fmt);
}

std::string headerValue(const HeaderMap* f, const std::string& name, const std::string& alt,
                        const AccessLogEntry& e) {
  auto lookup = [&](const std::string& n) -> std::optional<std::string> {
    if (n == ":method") return std::string(e.method);
    if (n == ":path") return std::string(e.path);
    if (n == ":authority") {
      if (f == nullptr) return std::nullopt;
      auto it = f->find(boost::beast::http::field::host);
      return it == f->end() ? std::nullopt : std::optional<std::string>(std::string(it->value()));
    }
    if (f == nullptr) return std::nullopt;
    auto it = f->find(n);
    if (it == f->end()) return std::nullopt;
    return std::string(it->value());
  };
  if (auto v = lookup(name)) return *v;
  if (!alt.empty())
    if (auto v = lookup(alt)) return *v;
  return "-";
}

}  // namespace

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
    if (op == "START_TIME") p.kind = Piece::Kind::StartTime;
    else if (auto a = arg("START_TIME")) { p.kind = Piece::Kind::StartTime; p.time_format = *a; }
    else if (auto a = arg("REQ")) {
      p.kind = Piece::Kind::Request;
      size_t q = a->find('?');
      p.text = lower(a->substr(0, q));
      if (q != std::string::npos) p.alt = lower(a->substr(q + 1));
    } else if (auto a = arg("RESP")) {
      p.kind = Piece::Kind::Response;
      size_t q = a->find('?');
      p.text = lower(a->substr(0, q));
      if (q != std::string::npos) p.alt = lower(a->substr(q + 1));
    }
    else if (op == "PROTOCOL") p.kind = Piece::Kind::Protocol;
    else if (op == "RESPONSE_CODE") p.kind = Piece::Kind::ResponseCode;
    else if (op == "RESPONSE_FLAGS") p.kind = Piece::Kind::ResponseFlags;
    else if (op == "BYTES_RECEIVED") p.kind = Piece::Kind::BytesReceived;
    else if (op == "BYTES_SENT") p.kind = Piece::Kind::BytesSent;
    else if (op == "DURATION") p.kind = Piece::Kind::Duration;
    else if (op == "UPSTREAM_HOST") p.kind = Piece::Kind::UpstreamHost;
    else if (op == "UPSTREAM_CLUSTER") p.kind = Piece::Kind::UpstreamCluster;
    else if (op == "DOWNSTREAM_REMOTE_ADDRESS" || op == "DOWNSTREAM_DIRECT_REMOTE_ADDRESS") p.kind = Piece::Kind::DownstreamRemote;
    else if (op == "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT") p.kind = Piece::Kind::DownstreamRemoteNoPort;
    else if (op == "DOWNSTREAM_LOCAL_ADDRESS") p.kind = Piece::Kind::DownstreamLocal;
    else if (op == "ROUTE_NAME") p.kind = Piece::Kind::RouteName;
    else if (op == "METHOD") p.kind = Piece::Kind::Method;
    else throw std::invalid_argument("format: unknown operator %" + op + "%");
    pieces_.push_back(std::move(p));
  }
  flush();
}

bool AccessLogFormatter::numeric() const {
  if (pieces_.size() != 1) return false;
  switch (pieces_[0].kind) {
    case Piece::Kind::ResponseCode:
    case Piece::Kind::BytesReceived:
    case Piece::Kind::BytesSent:
    case Piece::Kind::Duration: return true;
    default: return false;
  }
}

void AccessLogFormatter::format(const AccessLogEntry& e, std::string& out) const {
  for (const auto& p : pieces_) {
    std::string v;
    switch (p.kind) {
      case Piece::Kind::Literal: out += p.text; continue;
      case Piece::Kind::StartTime: v = formatTime(e.start, p.time_format); break;
      case Piece::Kind::Request: v = headerValue(e.request_headers, p.text, p.alt, e); break;
      case Piece::Kind::Response: v = headerValue(e.response_headers, p.text, p.alt, e); break;
      case Piece::Kind::Protocol: v = std::string(e.protocol); break;
      case Piece::Kind::ResponseCode: v = std::to_string(e.response_code); break;
      case Piece::Kind::ResponseFlags: v = e.response_flags.empty() ? "-" : std::string(e.response_flags); break;
      case Piece::Kind::BytesReceived: v = std::to_string(e.bytes_received); break;
      case Piece::Kind::BytesSent: v = std::to_string(e.bytes_sent); break;
      case Piece::Kind::Duration: v = std::to_string(e.duration.count()); break;
      case Piece::Kind::UpstreamHost: v = e.upstream_host.empty() ? "-" : e.upstream_host; break;
      case Piece::Kind::UpstreamCluster: v = e.upstream_cluster.empty() ? "-" : e.upstream_cluster; break;
      case Piece::Kind::DownstreamRemote: v = e.downstream_remote.empty() ? "-" : e.downstream_remote; break;
      case Piece::Kind::DownstreamRemoteNoPort: {
        if (e.downstream_remote.empty()) {
          v = "-";
          break;
        }
        v = e.downstream_remote.substr(0, e.downstream_remote.rfind(':'));
        if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
        break;
      }
      case Piece::Kind::DownstreamLocal: v = e.downstream_local.empty() ? "-" : e.downstream_local; break;
      case Piece::Kind::RouteName: v = e.route_name.empty() ? "-" : e.route_name; break;
      case Piece::Kind::Method: v = std::string(e.method); break;
    }
    if (p.max_length && v.size() > p.max_length) v.resize(p.max_length);
    out += v;
  }
}

std::shared_ptr<const AccessLogger> AccessLogger::create(const envoy::config::accesslog::v3::AccessLog& config) {
  namespace file = envoy::extensions::access_loggers::file::v3;
  namespace stream = envoy::extensions::access_loggers::stream::v3;
  std::shared_ptr<AccessLogger> logger(new AccessLogger());
  if (config.has_filter()) throw std::invalid_argument("access_log.filter is not supported yet");
  const auto& any = config.typed_config();
  std::string format = AccessLogFormatter::defaultFormat();
  const google::protobuf::Struct* json = nullptr;
  file::FileAccessLog f;
  stream::StdoutAccessLog so;
  stream::StderrAccessLog se;
  auto fromFormatString = [&](const envoy::config::core::v3::SubstitutionFormatString& s) {
    if (s.has_json_format()) json = &s.json_format();
    else if (!s.text_format().empty()) format = s.text_format();
    else if (s.has_text_format_source()) format = s.text_format_source().inline_string();
  };
  if (any.UnpackTo(&f) && any.type_url().ends_with("FileAccessLog")) {
    if (f.path().empty()) throw std::invalid_argument("FileAccessLog.path: required");
    if (f.path() == "/dev/stdout") logger->fd_ = 1;
    else if (f.path() == "/dev/stderr") logger->fd_ = 2;
    else {
      logger->fd_ = ::open(f.path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (logger->fd_ < 0) throw std::invalid_argument("cannot open access log " + f.path() + ": " + std::strerror(errno));
      logger->owns_fd_ = true;
    }
    if (!f.format().empty()) format = f.format();
    if (f.has_log_format()) fromFormatString(f.log_format());
    if (f.has_json_format()) json = &f.json_format();
    if (f.has_typed_json_format()) json = &f.typed_json_format();
  } else if (any.type_url().ends_with("StdoutAccessLog") && any.UnpackTo(&so)) {
    logger->fd_ = 1;
    if (so.has_log_format()) fromFormatString(so.log_format());
  } else if (any.type_url().ends_with("StderrAccessLog") && any.UnpackTo(&se)) {
    logger->fd_ = 2;
    if (se.has_log_format()) fromFormatString(se.log_format());
  } else {
    throw std::invalid_argument("access_log " + config.name() + ": unsupported logger " + any.type_url());
  }
  if (json != nullptr) {
    for (const auto& [key, value] : json->fields()) {
      if (value.kind_case() != google::protobuf::Value::kStringValue)
        throw std::invalid_argument("json_format." + key + ": only string values are supported");
      logger->json_.emplace_back(key, AccessLogFormatter(value.string_value()));
    }
  } else {
    logger->text_ = std::make_unique<AccessLogFormatter>(format);
  }
  return logger;
}

AccessLogger::~AccessLogger() {
  if (owns_fd_) ::close(fd_);
}

void AccessLogger::log(const AccessLogEntry& entry) const {
  thread_local std::string line;
  line.clear();
  if (text_) {
    text_->format(entry, line);
  } else {
    line += '{';
    std::string value;
    for (size_t i = 0; i < json_.size(); ++i) {
      value.clear();
      json_[i].second.format(entry, value);
      if (i) line += ',';
      line += '"' + observe::jsonEscape(json_[i].first) + "\":";
      if (json_[i].second.numeric()) line += value;
      else line += '"' + observe::jsonEscape(value) + '"';
    }
    line += "}\n";
  }
  // One write per line keeps lines whole when several workers share the file (O_APPEND).
  ssize_t ignored = ::write(fd_, line.data(), line.size());
  (void)ignored;
}

}  // namespace monomesh::proxy
