// A header block for an HTTP/2 HEADERS frame, by reference: names lower case (known names from a
// static table, others lower-cased into the list's own buffer), values viewed where they lie
// (nghttp2 copies both when the block is submitted, so they need to live only until then). The
// list keeps its memory across clear(), so an exchange that reuses one allocates nothing to answer.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/h2/h2_options.h"
#include "proxy/http/header_map.h"

namespace monomesh::proxy {

class H2HeaderList {
 public:
  void clear() noexcept;
  // A field whose name is already lower case (pseudo-headers, HTTP/2 names).
  void add(std::string_view name, std::string_view value) { refs_.push_back({name, value}); }
  // A field from an HTTP/1-style map: its name lower-cased.
  void add(const HeaderMap::Field& field);
  std::size_t size() const noexcept { return refs_.size(); }
  // The block; valid until the next add() or clear().
  std::span<const net::h2::HeaderRef> refs();

 private:
  std::vector<net::h2::HeaderRef> refs_;
  std::string names_;  // names lower-cased here
  // (entry, offset in names_) of the lower-cased names, pointed into names_ by refs() (it may
  // grow while fields are added).
  std::vector<std::pair<std::size_t, std::size_t>> pending_;
};

// An HTTP/2 request's header block into `out`: pseudo-headers (:authority from Host), then the
// fields less Host and the hop-by-hop ones (TE kept when `keep_te`: HTTP/2 allows "trailers",
// which gRPC needs, while an HTTP/1.1 client's TE concerned only its hop).
void http2RequestHeaders(H2HeaderList& out, std::string_view method, bool tls, std::string_view path,
                         const HeaderMap& fields, bool keep_te);

// The lower-case form of a known field's name (Beast's canonical names), "" for unknown.
std::string_view lowerCaseName(boost::beast::http::field id);

}  // namespace monomesh::proxy
