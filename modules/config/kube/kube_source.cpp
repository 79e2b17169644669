#include "config/kube/kube_source.h"

#include <algorithm>

#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::config::kube {

namespace {

constexpr const char* kNoName = "(no metadata.name)";

struct SourceMetrics {
  observe::Family<observe::Counter>& invalid_total = observe::MetricsRegistry::global().counter(
      "monomesh_config_kube_invalid_objects_total", "Objects from the API server rejected as invalid", {"cluster", "kind"});
  observe::Family<observe::Gauge>& invalid = observe::MetricsRegistry::global().gauge(
      "monomesh_config_kube_invalid_objects", "Objects in the API server whose current version is not applied", {"cluster"});
  observe::Family<observe::Gauge>& synced = observe::MetricsRegistry::global().gauge(
      "monomesh_config_kube_synced", "1 once every kind has completed its first LIST", {"cluster"});
};
SourceMetrics& metrics() {
  static SourceMetrics m;
  return m;
}

}  // namespace

KubeSource::KubeSource(boost::asio::io_context& context, Store& store, KubeCredentials credentials,
                       KubeSourceOptions options)
    : context_(context), store_(store), credentials_(std::move(credentials)), options_(std::move(options)) {}

KubeSource::~KubeSource() { stop(); }

std::optional<std::string> KubeSource::start() {
  if (options_.kinds.empty()) return "kube source for cluster " + options_.cluster_id + ": no kinds to watch";
  std::string error;
  client_ = KubeClient::create(context_.get_executor(), credentials_, options_.client, error);
  if (!client_) return error;
  LoadOptions load;
  load.cluster_id = options_.cluster_id;
  load.registry = options_.registry;
  load.validate = options_.validate;
  KubeReflectorHandlers handlers{
      [this](const Schema& kind, std::vector<KubeObject> items) { replace(kind, std::move(items)); },
      [this](const Schema& kind, WatchEvent event) { onEvent(kind, std::move(event)); }};
  for (const Schema* kind : options_.kinds)
    reflectors_.push_back(std::make_shared<KubeReflector>(client_, *kind, load, options_.reflector, handlers));
  stopped_ = false;
  metrics().synced.with({options_.cluster_id}).set(0);
  observe::logScope("kube").info("cluster {}: watching {} kinds on {} ({})", options_.cluster_id, reflectors_.size(),
                                 credentials_.server.url(), credentials_.origin);
  for (auto& reflector : reflectors_) reflector->start();
  return std::nullopt;
}

void KubeSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& reflector : reflectors_) reflector->stop();
  if (client_) client_->shutdown();
}

bool KubeSource::ownsInStore(const ResourceKey& key) const {
  ResourcePtr current = store_.snapshot()->get(key);
  return current && current->cluster_id == options_.cluster_id;
}

void KubeSource::commit(std::vector<Change> changes) {
  if (changes.empty()) return;
  uint64_t before = store_.version();
  if (store_.apply(std::move(changes)) != before) store_writes_++;
}

void KubeSource::reject(const Schema& kind, const KubeObject& object) {
  invalid_total_++;
  metrics().invalid_total.with({options_.cluster_id, kind.kind}).inc();
  ResourceKey key{&kind, object.namespace_, object.hasKey() ? object.name : kNoName};
  invalid_[key] = object.errors;
  auto& log = observe::logScope("kube");
  for (const auto& e : object.errors) log.error("cluster {}: {} (not applied)", options_.cluster_id, e.str());
}

void KubeSource::replace(const Schema& kind, std::vector<KubeObject> items) {
  std::erase_if(invalid_, [&](const auto& entry) { return entry.first.schema == &kind; });
  std::set<Name>& owned = owned_[&kind];
  std::set<Name> keep;
  std::vector<Change> changes;
  for (auto& item : items) {
    if (item.resource) {
      keep.insert({item.resource->meta.namespace_, item.resource->meta.name});
      changes.push_back(Upsert{std::move(*item.resource)});
      continue;
    }
    reject(kind, item);
    Name name{item.namespace_, item.name};
    if (item.hasKey() && owned.count(name)) keep.insert(name);  // its previous good version stays
  }
  for (const auto& [ns, name] : owned) {
    ResourceKey key{&kind, ns, name};
    if (!keep.count({ns, name}) && ownsInStore(key)) changes.push_back(Delete{key});
  }
  owned = std::move(keep);
  commit(std::move(changes));
  updateGauges();
  if (!synced_ && std::all_of(reflectors_.begin(), reflectors_.end(), [](const auto& r) { return r->listed(); })) {
    synced_ = true;
    metrics().synced.with({options_.cluster_id}).set(1);
    observe::logScope("kube").info("cluster {}: synced ({} kinds listed, store version {})", options_.cluster_id,
                                   reflectors_.size(), store_.version());
    if (on_synced) on_synced();
  }
}

void KubeSource::onEvent(const Schema& kind, WatchEvent event) {
  KubeObject& object = event.object;
  ResourceKey key{&kind, object.namespace_, object.name};
  std::set<Name>& owned = owned_[&kind];
  if (event.type == WatchEventType::Deleted) {
    if (!object.hasKey()) {
      reject(kind, object);
    } else {
      invalid_.erase(key);
      if (owned.erase({object.namespace_, object.name}) && ownsInStore(key)) commit({Delete{key}});
    }
  } else if (object.resource) {
    invalid_.erase(key);
    owned.insert({object.resource->meta.namespace_, object.resource->meta.name});
    std::vector<Change> changes;
    changes.push_back(Upsert{std::move(*object.resource)});
    commit(std::move(changes));
  } else {
    reject(kind, object);
  }
  updateGauges();
}

void KubeSource::updateGauges() { metrics().invalid.with({options_.cluster_id}).set(int64_t(invalid_.size())); }

KubeSourceStats KubeSource::stats() const {
  KubeSourceStats total;
  for (const auto& reflector : reflectors_) total += reflector->stats();
  total.invalid_objects = invalid_total_;
  total.store_writes = store_writes_;
  return total;
}

std::vector<KubeKindStatus> KubeSource::status() const {
  std::vector<KubeKindStatus> out;
  for (const auto& r : reflectors_) out.push_back({&r->kind(), r->listed(), r->resourceVersion(), r->lastError()});
  return out;
}

std::map<std::string, ConfigErrors> KubeSource::invalidObjects() const {
  std::map<std::string, ConfigErrors> out;
  for (const auto& [key, errors] : invalid_) out[key.str()] = errors;
  return out;
}

}  // namespace monomesh::config::kube
