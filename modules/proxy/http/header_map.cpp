#include "proxy/http/header_map.h"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace monomesh::proxy {

namespace http = boost::beast::http;

namespace {

constexpr std::size_t kFirstBlock = 1024;  // a typical head and what the proxy adds fit in one
// What clear() keeps for the next message; a message that needed more gives the rest back.
constexpr std::size_t kKeptBytes = 16 * 1024;
constexpr std::size_t kKeptFields = 128;

}  // namespace

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this == &other) return *this;
  clear();
  fields_.reserve(other.fields_.size());
  for (const auto& f : other.fields_) append(f.id_, f.name_, f.value_);
  return *this;
}

HeaderMap& HeaderMap::operator=(HeaderMap&& other) noexcept {
  if (this == &other) return *this;
  fields_ = std::move(other.fields_);
  blocks_ = std::move(other.blocks_);
  current_ = std::exchange(other.current_, 0);
  cursor_ = std::exchange(other.cursor_, nullptr);
  end_ = std::exchange(other.end_, nullptr);
  other.fields_.clear();
  other.blocks_.clear();
  return *this;
}

bool HeaderMap::matches(const Field& f, std::string_view name) noexcept {
  return f.name_.size() == name.size() && boost::beast::iequals(f.name_, name);
}

HeaderMap::const_iterator HeaderMap::find(http::field id) const noexcept {
  return std::find_if(fields_.begin(), fields_.end(), [id](const Field& f) { return f.id_ == id; });
}

HeaderMap::const_iterator HeaderMap::find(std::string_view name) const noexcept {
  return std::find_if(fields_.begin(), fields_.end(), [name](const Field& f) { return matches(f, name); });
}

std::size_t HeaderMap::count(http::field id) const noexcept {
  return std::count_if(fields_.begin(), fields_.end(), [id](const Field& f) { return f.id_ == id; });
}

std::size_t HeaderMap::count(std::string_view name) const noexcept {
  return std::count_if(fields_.begin(), fields_.end(), [name](const Field& f) { return matches(f, name); });
}

std::string_view HeaderMap::operator[](http::field id) const noexcept {
  auto it = find(id);
  return it == end() ? std::string_view() : it->value_;
}

std::string_view HeaderMap::operator[](std::string_view name) const noexcept {
  auto it = find(name);
  return it == end() ? std::string_view() : it->value_;
}

void HeaderMap::insert(http::field id, std::string_view value) {
  Field f;
  f.id_ = id;
  f.name_ = http::to_string(id);  // Beast's static table: nothing to copy
  f.value_ = store(value);
  fields_.push_back(f);
}

void HeaderMap::insert(std::string_view name, std::string_view value) { append(http::string_to_field(name), name, value); }

void HeaderMap::insert(http::field id, std::string_view name, std::string_view value) { append(id, name, value); }

void HeaderMap::insertParsed(http::field id, std::string_view name, std::string_view value) {
  const char* from = name.data();
  const char* to = value.data() + value.size();
  // "Name: value" as received (Beast folds obs-fold values elsewhere: then two copies).
  if (value.data() < from + name.size() || value.data() - (from + name.size()) > 16 || value.empty()) {
    append(id, name, value);
    return;
  }
  std::string_view both = store(std::string_view(from, std::size_t(to - from)));
  Field f;
  f.id_ = id;
  f.name_ = both.substr(0, name.size());
  f.value_ = both.substr(std::size_t(value.data() - from));
  fields_.push_back(f);
}

void HeaderMap::append(http::field id, std::string_view name, std::string_view value) {
  Field f;
  f.id_ = id;
  f.name_ = store(name);
  f.value_ = store(value);
  fields_.push_back(f);
}

void HeaderMap::set(http::field id, std::string_view value) {
  erase(id);
  insert(id, value);
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  erase(name);
  insert(name, value);
}

std::size_t HeaderMap::erase(http::field id) {
  auto first = std::remove_if(fields_.begin(), fields_.end(), [id](const Field& f) { return f.id_ == id; });
  std::size_t n = std::size_t(fields_.end() - first);
  fields_.erase(first, fields_.end());
  return n;
}

std::size_t HeaderMap::erase(std::string_view name) {
  auto first = std::remove_if(fields_.begin(), fields_.end(), [name](const Field& f) { return matches(f, name); });
  std::size_t n = std::size_t(fields_.end() - first);
  fields_.erase(first, fields_.end());
  return n;
}

HeaderMap::const_iterator HeaderMap::erase(const_iterator position) { return fields_.erase(position); }

void HeaderMap::clear() noexcept {
  fields_.clear();
  if (fields_.capacity() > kKeptFields) fields_.shrink_to_fit();
  std::size_t kept = 0;
  std::size_t keep_blocks = 0;
  for (auto& b : blocks_) {
    if (kept + b.size > kKeptBytes && keep_blocks != 0) break;
    kept += b.size;
    ++keep_blocks;
  }
  blocks_.resize(keep_blocks);
  current_ = 0;
  cursor_ = blocks_.empty() ? nullptr : blocks_[0].data.get();
  end_ = blocks_.empty() ? nullptr : cursor_ + blocks_[0].size;
}

void HeaderMap::grow(std::size_t size) {
  // The next block kept from an earlier message, if it is big enough (what is left of the
  // current one stays unused until clear()), else a new one twice the last.
  if (!blocks_.empty() && current_ + 1 < blocks_.size() && blocks_[current_ + 1].size >= size) {
    ++current_;
  } else {
    std::size_t block = std::max(size, blocks_.empty() ? kFirstBlock : blocks_.back().size * 2);
    blocks_.push_back(Block{std::make_unique_for_overwrite<char[]>(block), block});
    current_ = blocks_.size() - 1;
  }
  cursor_ = blocks_[current_].data.get();
  end_ = cursor_ + blocks_[current_].size;
}

}  // namespace monomesh::proxy
