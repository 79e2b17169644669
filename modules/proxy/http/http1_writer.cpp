#include "proxy/http/http1_writer.h"

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <charconv>
#include <cstring>

namespace monomesh::proxy {

namespace {

// The field lines, and the blank line that ends a head when `end_head`.
void writeFields(const HeaderMap& fields, bool (*skip)(const HeaderMap::Field&), bool end_head, std::string& out) {
  // One resize, then plain copies: appending piece by piece checked the capacity each time.
  size_t size = end_head ? 2 : 0;
  for (const auto& f : fields)
    if (!skip || !skip(f)) size += f.name_string().size() + f.value().size() + 4;
  size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  for (const auto& f : fields) {
    if (skip && skip(f)) continue;
    std::memcpy(p, f.name_string().data(), f.name_string().size());
    p += f.name_string().size();
    *p++ = ':';
    *p++ = ' ';
    if (!f.value().empty()) std::memcpy(p, f.value().data(), f.value().size());
    p += f.value().size();
    *p++ = '\r';
    *p++ = '\n';
  }
  if (end_head) {
    *p++ = '\r';
    *p++ = '\n';
  }
}

void appendFields(const HeaderMap& fields, std::string& out) { writeFields(fields, nullptr, true, out); }

}  // namespace

void appendFieldLines(const HeaderMap& fields, bool (*skip)(const HeaderMap::Field&), std::string& out) {
  writeFields(fields, skip, false, out);
}

void appendRequestHead(const RequestHead& head, std::string& out) {
  std::string_view method = head.method_string;
  if (method.empty()) method = boost::beast::http::to_string(head.method);
  out.append(method);
  out.push_back(' ');
  out.append(head.target);
  out.append(head.version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  appendFields(head.fields, out);
}

void appendResponseHead(const ResponseHead& head, std::string& out) {
  char status[16];
  auto [end, ec] = std::to_chars(status, status + sizeof(status), head.status);
  (void)ec;
  out.append("HTTP/1.1 ");
  out.append(status, end);
  out.push_back(' ');
  std::string_view reason = head.reason;
  if (reason.empty()) reason = boost::beast::http::obsolete_reason(boost::beast::http::int_to_status(head.status));
  out.append(reason);
  out.append("\r\n");
  appendFields(head.fields, out);
}

void appendChunkSize(size_t size, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), size, 16);
  (void)ec;
  out.append(buf, end);
  out.append("\r\n");
}

}  // namespace monomesh::proxy
