// The header fields of one HTTP message as a flat list: each entry is the field's id (Beast's
// http::field; `unknown` for names Beast does not know) and views of its name and value, whose
// bytes live in blocks the map owns. Nothing is allocated per header, lookups scan the list (a
// message has a dozen headers: building a tree of nodes, as Beast's basic_fields does, costs more
// than the scans save), and clear() keeps the memory, so a connection reuses one map for every
// message. The interface follows basic_fields where the proxy uses it; iteration is in insertion
// order and names keep the case they were given.
#pragma once
#include <boost/beast/http/field.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace monomesh::proxy {

// A header name the code uses again and again, with its id looked up once. The name must outlive
// it (a literal).
class HeaderName {
 public:
  explicit HeaderName(std::string_view name) : id_(boost::beast::http::string_to_field(name)), name_(name) {}
  boost::beast::http::field id() const noexcept { return id_; }
  std::string_view name() const noexcept { return name_; }

 private:
  boost::beast::http::field id_;
  std::string_view name_;
};

class HeaderMap {
 public:
  class Field {
   public:
    boost::beast::http::field name() const noexcept { return id_; }
    std::string_view name_string() const noexcept { return name_; }
    std::string_view value() const noexcept { return value_; }

   private:
    friend class HeaderMap;
    boost::beast::http::field id_ = boost::beast::http::field::unknown;
    std::string_view name_, value_;
  };
  using const_iterator = std::vector<Field>::const_iterator;
  using iterator = const_iterator;

  HeaderMap() = default;
  HeaderMap(const HeaderMap& other) { *this = other; }
  HeaderMap& operator=(const HeaderMap& other);
  // Moving keeps the blocks, so the views stay valid; the source is left empty.
  HeaderMap(HeaderMap&& other) noexcept { *this = std::move(other); }
  HeaderMap& operator=(HeaderMap&& other) noexcept;

  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }

  // The first field of that id / name (names compare without case), else end().
  const_iterator find(boost::beast::http::field id) const noexcept;
  const_iterator find(std::string_view name) const noexcept;
  const_iterator find(const HeaderName& name) const noexcept {
    return name.id() != boost::beast::http::field::unknown ? find(name.id()) : find(name.name());
  }
  std::size_t count(boost::beast::http::field id) const noexcept;
  std::size_t count(std::string_view name) const noexcept;
  // The first value, or "" when there is none.
  std::string_view operator[](boost::beast::http::field id) const noexcept;
  std::string_view operator[](std::string_view name) const noexcept;
  // Calls fn(value) for every field of that name, in order.
  template <class Fn>
  void forEach(std::string_view name, Fn&& fn) const {
    for (const auto& f : fields_)
      if (matches(f, name)) fn(f.value_);
  }

  // Appends a field: named by its id (its canonical name), by name (id looked up), or both
  // (when the caller knows them, as the parser does).
  void insert(boost::beast::http::field id, std::string_view value);
  void insert(std::string_view name, std::string_view value);
  void insert(boost::beast::http::field id, std::string_view name, std::string_view value);
  void insert(const HeaderName& name, std::string_view value) { insert(name.id(), name.name(), value); }
  // As insert(id, name, value), for a parser whose name and value lie close together in one
  // buffer ("Name: value"): one copy for both.
  void insertParsed(boost::beast::http::field id, std::string_view name, std::string_view value);
  // Replaces every field of that id / name by one (appended).
  void set(boost::beast::http::field id, std::string_view value);
  void set(std::string_view name, std::string_view value);
  void set(const HeaderName& name, std::string_view value) {
    erase(name);
    insert(name, value);
  }
  // Removes every field of that id / name; returns how many.
  std::size_t erase(boost::beast::http::field id);
  std::size_t erase(std::string_view name);
  std::size_t erase(const HeaderName& name) {
    return name.id() != boost::beast::http::field::unknown ? erase(name.id()) : erase(name.name());
  }
  // Removes one field; returns the one after it.
  const_iterator erase(const_iterator position);
  void clear() noexcept;

 private:
  static bool matches(const Field& f, std::string_view name) noexcept;
  // A copy of `bytes` that lives until clear() (or the map's end).
  std::string_view store(std::string_view bytes) {
    if (std::size_t(end_ - cursor_) < bytes.size()) grow(bytes.size());
    char* at = cursor_;
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    cursor_ += bytes.size();
    return std::string_view(at, bytes.size());
  }
  // Makes room for `size` bytes at cursor_: the next kept block, or a new one.
  void grow(std::size_t size);
  void append(boost::beast::http::field id, std::string_view name, std::string_view value);

  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };
  std::vector<Field> fields_;
  std::vector<Block> blocks_;
  std::size_t current_ = 0;  // the block being filled: bytes [cursor_, end_) are free
  char* cursor_ = nullptr;
  char* end_ = nullptr;
};

}  // namespace monomesh::proxy
