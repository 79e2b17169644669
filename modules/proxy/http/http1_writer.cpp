#include "proxy/http/http1_writer.h"

#include <charconv>

namespace monomesh::proxy {

namespace {

void appendFields(const boost::beast::http::fields& fields, std::string& out) {
  for (const auto& f : fields) {
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void appendRequestHead(const boost::beast::http::request_header<>& head, std::string& out) {
  out.append(head.method_string());
  out.push_back(' ');
  out.append(head.target());
  out.append(head.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  appendFields(head, out);
}

void appendResponseHead(const boost::beast::http::response_header<>& head, std::string& out) {
  char status[16];
  auto [end, ec] = std::to_chars(status, status + sizeof(status), head.result_int());
  (void)ec;
  out.append("HTTP/1.1 ");
  out.append(status, end);
  out.push_back(' ');
  std::string_view reason = head.reason();
  if (reason.empty()) reason = boost::beast::http::obsolete_reason(head.result());
  out.append(reason);
  out.append("\r\n");
  appendFields(head, out);
}

void appendChunkSize(size_t size, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), size, 16);
  (void)ec;
  out.append(buf, end);
  out.append("\r\n");
}

}  // namespace monomesh::proxy
