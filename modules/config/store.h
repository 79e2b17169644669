// The versioned in-memory config store every role reads: typed get/list by kind and namespace,
// one monotonically increasing version, consistent immutable snapshots, and watches that see
// each committed transaction as one batch of added/updated/deleted events.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <variant>
#include <vector>

#include "config/resource.h"

namespace monomesh::config {

using ResourcePtr = std::shared_ptr<const Resource>;

class StoreSnapshot {
 public:
  uint64_t version() const { return version_; }
  ResourcePtr get(const Schema* kind, std::string_view namespace_, std::string_view name) const;
  ResourcePtr get(const ResourceKey& key) const { return get(key.schema, key.namespace_, key.name); }
  // Sorted by namespace then name; an empty namespace lists every namespace.
  std::vector<ResourcePtr> list(const Schema* kind, std::string_view namespace_ = {}) const;
  size_t size() const;

 private:
  friend class Store;
  using KindMap = std::map<std::pair<std::string, std::string>, ResourcePtr, std::less<>>;
  std::map<const Schema*, std::shared_ptr<const KindMap>> kinds_;
  uint64_t version_ = 0;
};

enum class EventType { Added, Updated, Deleted };

struct Event {
  EventType type;
  ResourcePtr resource;  // the new state; for Deleted, the state that was removed
  ResourcePtr previous;  // for Updated
};

struct Upsert {
  Resource resource;
};
struct Delete {
  ResourceKey key;
};
using Change = std::variant<Upsert, Delete>;

class Store {
 public:
  using Watcher = std::function<void(const std::vector<Event>& events, const StoreSnapshot& snapshot)>;
  using WatchId = uint64_t;

  Store();

  std::shared_ptr<const StoreSnapshot> snapshot() const;
  uint64_t version() const { return snapshot()->version(); }

  // Applies every change as one transaction: at most one version step, then one batch of events
  // to each watcher. An upsert with unchanged content and a delete of a missing key change
  // nothing. Returns the version after the transaction.
  uint64_t apply(std::vector<Change> changes);

  // Watch every kind (kind == nullptr) or one kind. Watchers run on the thread that applied the
  // transaction, in commit order; they must not apply to this store from inside the callback.
  WatchId watch(Watcher watcher, const Schema* kind = nullptr);
  void unwatch(WatchId id);

 private:
  mutable std::mutex mutex_;  // guards current_ and watchers_
  std::mutex deliver_mutex_;  // keeps deliveries in commit order
  std::shared_ptr<const StoreSnapshot> current_;
  struct WatchEntry {
    Watcher fn;
    const Schema* kind;
  };
  std::map<WatchId, std::shared_ptr<WatchEntry>> watchers_;
  WatchId next_watch_ = 1;
};

}  // namespace monomesh::config
