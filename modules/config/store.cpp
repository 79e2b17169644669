#include "config/store.h"

namespace monomesh::config {

ResourcePtr StoreSnapshot::get(const Schema* kind, std::string_view ns, std::string_view name) const {
  auto k = kinds_.find(kind);
  if (k == kinds_.end()) return nullptr;
  auto it = k->second->find(std::pair<std::string, std::string>(ns, name));
  return it == k->second->end() ? nullptr : it->second;
}

std::vector<ResourcePtr> StoreSnapshot::list(const Schema* kind, std::string_view ns) const {
  std::vector<ResourcePtr> out;
  auto k = kinds_.find(kind);
  if (k == kinds_.end()) return out;
  if (ns.empty()) {
    out.reserve(k->second->size());
    for (const auto& [key, r] : *k->second) out.push_back(r);
    return out;
  }
  for (auto it = k->second->lower_bound(std::pair<std::string, std::string>(ns, ""));
       it != k->second->end() && it->first.first == ns; ++it)
    out.push_back(it->second);
  return out;
}

size_t StoreSnapshot::size() const {
  size_t n = 0;
  for (const auto& [kind, map] : kinds_) n += map->size();
  return n;
}

Store::Store() : current_(std::make_shared<StoreSnapshot>()) {}

std::shared_ptr<const StoreSnapshot> Store::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

uint64_t Store::apply(std::vector<Change> changes) {
  std::lock_guard deliver(deliver_mutex_);
  std::vector<Event> events;
  std::shared_ptr<const StoreSnapshot> committed;
  std::vector<std::shared_ptr<WatchEntry>> watchers;
  {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<StoreSnapshot>(*current_);
    uint64_t version = current_->version() + 1;
    // Copy-on-write per kind: only the kinds this transaction touches are copied.
    std::map<const Schema*, std::shared_ptr<StoreSnapshot::KindMap>> touched;
    auto mutableKind = [&](const Schema* kind) -> StoreSnapshot::KindMap& {
      auto& slot = touched[kind];
      if (!slot) {
        auto it = next->kinds_.find(kind);
        slot = it == next->kinds_.end() ? std::make_shared<StoreSnapshot::KindMap>()
                                        : std::make_shared<StoreSnapshot::KindMap>(*it->second);
      }
      return *slot;
    };
    for (auto& change : changes) {
      if (auto* up = std::get_if<Upsert>(&change)) {
        Resource& r = up->resource;
        auto& map = mutableKind(r.schema);
        auto key = std::make_pair(r.meta.namespace_, r.meta.name);
        auto it = map.find(key);
        if (it != map.end() && it->second->sameContent(r)) continue;
        r.revision = version;
        auto fresh = std::make_shared<const Resource>(std::move(r));
        if (it == map.end()) {
          map.emplace(std::move(key), fresh);
          events.push_back(Event{EventType::Added, fresh, nullptr});
        } else {
          events.push_back(Event{EventType::Updated, fresh, it->second});
          it->second = fresh;
        }
      } else {
        const ResourceKey& key = std::get<Delete>(change).key;
        auto& map = mutableKind(key.schema);
        auto it = map.find(std::make_pair(key.namespace_, key.name));
        if (it == map.end()) continue;
        events.push_back(Event{EventType::Deleted, it->second, nullptr});
        map.erase(it);
      }
    }
    if (events.empty()) return current_->version();
    for (auto& [kind, map] : touched) next->kinds_[kind] = std::move(map);
    next->version_ = version;
    current_ = next;
    committed = next;
    for (auto& [id, w] : watchers_) watchers.push_back(w);
  }
  for (auto& w : watchers) {
    if (w->kind == nullptr) {
      w->fn(events, *committed);
      continue;
    }
    std::vector<Event> mine;
    for (const auto& e : events)
      if (e.resource->schema == w->kind) mine.push_back(e);
    if (!mine.empty()) w->fn(mine, *committed);
  }
  return committed->version();
}

Store::WatchId Store::watch(Watcher watcher, const Schema* kind) {
  std::lock_guard lock(mutex_);
  WatchId id = next_watch_++;
  watchers_.emplace(id, std::make_shared<WatchEntry>(WatchEntry{std::move(watcher), kind}));
  return id;
}

void Store::unwatch(WatchId id) {
  std::lock_guard lock(mutex_);
  watchers_.erase(id);
}

}  // namespace monomesh::config
