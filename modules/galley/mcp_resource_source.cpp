#include "galley/mcp_resource_source.h"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "config/mcp/mcp_resource.h"
#include "observe/log.h"

namespace monomesh::galley {

namespace asio = boost::asio;

McpResourceSource::McpResourceSource(asio::io_context& context, config::Store& store, McpResourceSourceOptions options)
    : context_(context), store_(store), options_(std::move(options)), timer_(context) {
  if (options_.kinds.empty()) options_.kinds = config::mcp::distributedKinds();
  for (const config::Schema* kind : options_.kinds) {
    by_url_.emplace(kind->collection, kind);
    by_url_.emplace(config::mcp::subscriptionUrl(*kind), kind);
  }
}

McpResourceSource::~McpResourceSource() {
  stop();
  alive_.reset();
}

void McpResourceSource::start(net::xds::AdsServer* ads) {
  ads_ = ads;
  auto snapshot = store_.snapshot();
  for (const config::Schema* kind : options_.kinds) repack(*kind, *snapshot);
  std::weak_ptr<bool> alive = alive_;
  watch_ = store_.watch([this, alive](const std::vector<config::Event>& events, const config::StoreSnapshot&) {
    if (alive.expired()) return;
    asio::post(context_, [this, alive, events] {
      if (!alive.expired()) onStoreChange(events);
    });
  });
}

void McpResourceSource::stop() {
  if (watch_) store_.unwatch(watch_);
  watch_ = 0;
  timer_.cancel();
  ads_ = nullptr;
}

void McpResourceSource::setServing(bool serving) {
  if (serving_ == serving) return;
  serving_ = serving;
  if (!serving_) return;
  // The sources' last changes may still be waiting for the debounce (or even for their store
  // event): start from the store as it is now.
  auto snapshot = store_.snapshot();
  for (const config::Schema* kind : options_.kinds) repack(*kind, *snapshot);
  if (ads_) ads_->push();  // streams that asked before are answered now
}

void McpResourceSource::onStoreChange(const std::vector<config::Event>& events) {
  bool was_idle = dirty_.empty();
  for (const auto& event : events) {
    const config::Schema* kind = event.resource ? event.resource->schema : nullptr;
    if (kind && std::find(options_.kinds.begin(), options_.kinds.end(), kind) != options_.kinds.end())
      dirty_.insert(kind);
  }
  if (dirty_.empty()) return;
  auto now = std::chrono::steady_clock::now();
  if (was_idle) first_dirty_ = now;
  // Quiet time after the last change, but never later than the cap after the first one.
  timer_.expires_at(std::min(now + options_.debounce_quiet, first_dirty_ + options_.debounce_cap));
  std::weak_ptr<bool> alive = alive_;
  timer_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) flush();
  });
}

void McpResourceSource::flush() {
  auto snapshot = store_.snapshot();
  std::vector<std::string> changed;
  for (const config::Schema* kind : dirty_) {
    if (!repack(*kind, *snapshot)) continue;
    changed.push_back(config::mcp::subscriptionUrl(*kind));
    changed.push_back(kind->collection);  // clients may subscribe by collection too
  }
  dirty_.clear();
  if (changed.empty() || !serving_ || !ads_) return;
  observe::logScope("galley").debug("distributing {} changed kinds (store version {})", changed.size() / 2,
                                    snapshot->version());
  ads_->push(changed);
}

bool McpResourceSource::repack(const config::Schema& kind, const config::StoreSnapshot& snapshot) {
  net::xds::Resources set;
  for (const auto& resource : snapshot.list(&kind)) {
    set.resources.push_back(config::mcp::pack(*resource));
    set.names.push_back(config::mcp::resourceName(*resource));
  }
  set.version = config::mcp::contentVersion(set.resources);
  repacks_++;
  auto& slot = packed_[&kind];
  bool changed = slot.version != set.version;
  slot = std::move(set);
  return changed;
}

std::optional<net::xds::Resources> McpResourceSource::resources(const envoy::config::core::v3::Node&,
                                                                std::string_view type_url,
                                                                const std::vector<std::string>& names) {
  auto found = by_url_.find(type_url);
  if (found == by_url_.end() || !serving_) return std::nullopt;
  const net::xds::Resources& all = packed_[found->second];
  if (names.empty()) return all;
  net::xds::Resources some;
  some.version = all.version;
  for (size_t i = 0; i < all.names.size(); ++i) {
    if (std::find(names.begin(), names.end(), all.names[i]) == names.end()) continue;
    some.resources.push_back(all.resources[i]);
    some.names.push_back(all.names[i]);
  }
  return some;
}

const net::xds::Resources* McpResourceSource::kindResources(const config::Schema& kind) const {
  auto it = packed_.find(&kind);
  return it == packed_.end() ? nullptr : &it->second;
}

}  // namespace monomesh::galley
