// Feeds a config Store from a Kubernetes API server: one reflector (LIST + WATCH) per kind, each
// complete LIST applied as one transaction that replaces what this source holds of that kind
// (deletions included), each watch event as one transaction. Every resource is stamped with the
// source's cluster id, and the source only replaces or deletes what it owns, so one source per
// remote cluster can feed the same store. An invalid object is logged, counted and listed, never
// applied (its previous good version stays). synced() turns true once every kind has listed.
//
// Runs on one io_context thread. Call stop() and let the context run out before destroying it.
#pragma once
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/kube/kube_client.h"
#include "config/kube/kube_reflector.h"
#include "config/store.h"

namespace monomesh::config::kube {

struct KubeSourceOptions {
  std::string cluster_id = "Kubernetes";  // Pilot's --clusterID default
  std::vector<const Schema*> kinds;      // what to list and watch
  const SchemaRegistry* registry = &SchemaRegistry::builtin();
  // Istio 1.1's semantic validation on top of the schema check, as for config folders: the
  // API server holds whatever was applied while Galley's webhook was not in the way.
  bool validate = true;
  KubeClientOptions client;
  KubeReflectorOptions reflector;
};

struct KubeSourceStats : KubeReflectorStats {
  uint64_t invalid_objects = 0;  // objects rejected so far (list items and events)
  uint64_t store_writes = 0;     // transactions that changed the store
};

struct KubeKindStatus {
  const Schema* kind = nullptr;
  bool listed = false;
  std::string resource_version;
  std::string last_error;  // empty while healthy
};

class KubeSource {
 public:
  KubeSource(boost::asio::io_context& context, Store& store, KubeCredentials credentials, KubeSourceOptions options);
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;

  // Builds the client and starts every reflector; an error (bad TLS settings, no kinds) is one line.
  std::optional<std::string> start();
  void stop();

  // True once every kind has completed its first LIST.
  bool synced() const { return synced_; }
  // Called once, on the context's thread, when the source becomes synced.
  std::function<void()> on_synced;

  KubeSourceStats stats() const;
  std::vector<KubeKindStatus> status() const;
  // Objects the API server holds that are not applied, with why ("VirtualService default/bad").
  std::map<std::string, ConfigErrors> invalidObjects() const;
  const std::string& clusterId() const { return options_.cluster_id; }

 private:
  using Name = std::pair<std::string, std::string>;  // namespace, name
  void replace(const Schema& kind, std::vector<KubeObject> items);
  void onEvent(const Schema& kind, WatchEvent event);
  void reject(const Schema& kind, const KubeObject& object);
  // Deleting is only for what this source wrote: another cluster's source may own the key now.
  bool ownsInStore(const ResourceKey& key) const;
  void commit(std::vector<Change> changes);
  void updateGauges();

  boost::asio::io_context& context_;
  Store& store_;
  KubeCredentials credentials_;
  KubeSourceOptions options_;
  std::shared_ptr<KubeClient> client_;
  std::vector<std::shared_ptr<KubeReflector>> reflectors_;
  std::map<const Schema*, std::set<Name>> owned_;
  std::map<ResourceKey, ConfigErrors> invalid_;
  uint64_t invalid_total_ = 0;
  uint64_t store_writes_ = 0;
  bool synced_ = false;
  bool stopped_ = false;
};

}  // namespace monomesh::config::kube
