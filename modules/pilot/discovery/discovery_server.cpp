#include "pilot/discovery/discovery_server.h"

#include <malloc.h>

#include <boost/asio/post.hpp>
#include <set>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "observe/log.h"
#include "pilot/xds/naming.h"

namespace monomesh::pilot {

namespace type_url = net::xds::type_url;
using Clock = std::chrono::steady_clock;

struct DiscoveryServer::ProxyState {
  ProxyNode node;
  std::shared_ptr<const PushContext> push;  // the push `view` was built from
  std::unique_ptr<xds::ProxyView> view;
};

// What a stream is sent, assembled from packed resources (shared ones come from the push cache).
struct DiscoveryServer::Assembly {
  net::xds::Resources out;
  size_t hash;
  explicit Assembly(std::string_view url) : hash(std::hash<std::string_view>{}(url)) {}
  void add(const PackedResource& p) {
    out.resources.push_back(p.any);
    out.names.push_back(p.name);
    hash = hash * 1099511628211ull ^ p.hash;
  }
  // The version names the content: a proxy gets a type again only when its bytes changed.
  net::xds::Resources finish() {
    char text[17];
    std::snprintf(text, sizeof(text), "%016zx", hash);
    out.version = text;
    return std::move(out);
  }
};

namespace {

struct PilotMetrics {
  observe::Counter& rejects;
  observe::Counter &cds_reject, &eds_reject, &lds_reject, &rds_reject;
  observe::Family<observe::Counter>& pushes;
  observe::Histogram& convergence;
  observe::Histogram& push_build;
  observe::Gauge &services, &virtual_services, &dup_domains, &push_count;

  static PilotMetrics& get() {
    auto& m = observe::MetricsRegistry::global();
    static PilotMetrics metrics{
        m.counter("pilot_total_xds_rejects", "Total number of xDS responses from pilot rejected by proxy.").with({}),
        m.counter("pilot_xds_cds_reject", "Pilot rejected CDS configs.").with({}),
        m.counter("pilot_xds_eds_reject", "Pilot rejected EDS.").with({}),
        m.counter("pilot_xds_lds_reject", "Pilot rejected LDS.").with({}),
        m.counter("pilot_xds_rds_reject", "Pilot rejected RDS.").with({}),
        m.counter("pilot_xds_pushes", "Pilot build and send errors for lds, rds, cds and eds.", {"type"}),
        m.histogram("pilot_proxy_convergence_time", "Delay between a config change and all proxies converging.", {},
                    {0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30})
            .with({}),
        m.histogram("pilot_push_context_build_seconds", "Time to build a PushContext.", {},
                    {0.001, 0.01, 0.1, 0.5, 1, 5})
            .with({}),
        m.gauge("pilot_services", "Total services known to pilot.").with({}),
        m.gauge("pilot_virt_services", "Total virtual services known to pilot.").with({}),
        m.gauge("pilot_vservice_dup_domain", "Virtual services with dup domains.").with({}),
        m.gauge("pilot_push_count", "Pushes (PushContext rebuilds) since start.").with({}),
    };
    return metrics;
  }
};

const char* shortType(std::string_view url) {
  if (url == type_url::kCluster) return "cds";
  if (url == type_url::kEndpoint) return "eds";
  if (url == type_url::kListener) return "lds";
  if (url == type_url::kRoute) return "rds";
  return "other";
}

// The xDS types a change can alter. Endpoints change only EDS; a VirtualService only listeners
// (TCP/TLS routes, gateway servers) and routes, never clusters or endpoints; anything else
// (services, pods, DestinationRules, Sidecars, Gateways, ...) can change every type.
enum : unsigned { kCds = 1, kEds = 2, kLds = 4, kRds = 8, kAllTypes = 15 };

unsigned affectedTypes(const config::Event& e) {
  const auto& schema = *e.resource->schema;
  if (schema.group.empty() && schema.kind == "Endpoints") return kEds;
  if (schema.group == "networking.istio.io" && schema.kind == "VirtualService") return kLds | kRds;
  return kAllTypes;
}

}  // namespace

DiscoveryServer::DiscoveryServer(boost::asio::io_context& context, config::Store& store, PushContext::Options options,
                                 DebounceOptions debounce)
    : context_(context),
      store_(store),
      options_(std::move(options)),
      debouncer_(context, debounce, [this](bool full, Clock::time_point first) { rebuild(full, first); }),
      cache_timer_(context) {
  PilotMetrics::get();
}

DiscoveryServer::~DiscoveryServer() { stop(); }

void DiscoveryServer::start(net::grpc::GrpcServer& grpc, size_t push_throttle) {
  push_ = PushContext::build(store_.snapshot(), options_, ++push_version_);
  push_started_ = Clock::now();
  // The ADS server asks this object for resources; it lives as long as this object.
  ads_ = std::make_unique<net::xds::AdsServer>(grpc, std::shared_ptr<net::xds::ResourceSource>(this, [](auto*) {}));
  net::xds::AdsHooks hooks;
  hooks.sent = [](const net::xds::StreamStatus&, const std::string& url, size_t) {
    PilotMetrics::get().pushes.with({shortType(url)}).inc();
  };
  hooks.answered = [this](const net::xds::StreamStatus& status, const std::string& url, const std::string& error) {
    auto& m = PilotMetrics::get();
    if (error.empty()) {
      m.convergence.observe(std::chrono::duration<double>(Clock::now() - push_started_).count());
      return;
    }
    m.rejects.inc();
    std::string_view t = shortType(url);
    (t == "cds" ? m.cds_reject : t == "eds" ? m.eds_reject : t == "lds" ? m.lds_reject : m.rds_reject).inc();
    observe::logScope("ads").warn("{} rejected {}: {}", status.node_id, t, error);
  };
  hooks.accept_node = [](const envoy::config::core::v3::Node& node) {
    std::string error;
    return ProxyNode::parse(node, error) ? std::string() : error;
  };
  ads_->setHooks(std::move(hooks));
  ads_->setPushThrottle(push_throttle);
  auto alive = alive_;
  watch_ = store_.watch([this, alive](const std::vector<config::Event>& events, const config::StoreSnapshot&) {
    // Watchers run where the change was applied; pushes are decided on the control context.
    boost::asio::post(context_, [this, alive, events] {
      if (*alive) onStoreChange(events);
    });
  });
  auto& m = PilotMetrics::get();
  m.services.set(int64_t(push_->registry().services.size()));
  m.virtual_services.set(int64_t(push_->allVirtualServices().size()));
  publishPushStatus(push_->sharedStatus());
}

void DiscoveryServer::setOptions(PushContext::Options options) {
  options_ = std::move(options);
  pending_types_ |= kAllTypes;
  debouncer_.change(true);
}

void DiscoveryServer::stop() {
  *alive_ = false;
  if (watch_ != 0) store_.unwatch(watch_);
  watch_ = 0;
  debouncer_.cancel();
  cache_timer_.cancel();
}

void DiscoveryServer::onStoreChange(const std::vector<config::Event>& events) {
  unsigned types = 0;
  for (const auto& e : events) {
    unsigned affected = affectedTypes(e);
    types |= affected;
    if (affected == kEds)  // Kubernetes Endpoints are named after their Service
      pending_endpoint_hosts_.insert(e.resource->meta.name + "." + e.resource->meta.namespace_ + ".svc." +
                                     options_.registry.domain);
  }
  pending_types_ |= types;  // what the next push re-evaluates, accumulated over the debounce
  debouncer_.change(types != kEds);
}

void DiscoveryServer::rebuild(bool full, Clock::time_point first_change) {
  auto started = Clock::now();
  auto previous = std::move(push_);
  push_ = PushContext::build(store_.snapshot(), options_, ++push_version_);
  cache_.reset();  // the previous push's shared resources go with it
  push_started_ = first_change;
  auto& m = PilotMetrics::get();
  m.push_build.observe(std::chrono::duration<double>(Clock::now() - started).count());
  m.services.set(int64_t(push_->registry().services.size()));
  m.virtual_services.set(int64_t(push_->allVirtualServices().size()));
  m.dup_domains.set(int64_t(push_->conflicts().size()));
  m.push_count.inc();
  // Forget proxies that disconnected.
  std::set<std::string> connected;
  for (auto& id : ads_->nodeIds()) connected.insert(std::move(id));
  std::erase_if(proxies_, [&connected](const auto& p) { return !connected.count(p.first); });
  observe::logScope("ads").debug("push {} ({}): {} services, {} proxies", push_version_, full ? "full" : "endpoints",
                                 push_->registry().services.size(), connected.size());
  unsigned types = pending_types_ != 0 ? pending_types_ : kAllTypes;
  pending_types_ = 0;
  if (types != kAllTypes) push_->status().carryFrom(previous->status());  // see PushStatus::carryFrom
  publishPushStatus(push_->sharedStatus());
  auto endpoint_hosts = std::move(pending_endpoint_hosts_);
  pending_endpoint_hosts_.clear();
  if (types == kEds && !endpoint_hosts.empty()) {
    // Only the load assignments of the changed services: Envoy keeps the others (a state-of-the-
    // world EDS response may carry a subset), as Istio 1.1's incremental EDS did.
    net::xds::PushScope scope{{std::string(type_url::kEndpoint)}, [hosts = std::move(endpoint_hosts)](std::string_view name) {
                                auto key = xds::parseClusterName(name);
                                return key && key->direction == xds::Direction::Outbound && hosts.count(key->host) > 0;
                              }};
    ads_->push(scope);
    return;
  }
  if (types == kAllTypes) {
    ads_->push();
    return;
  }
  std::vector<std::string> urls;
  if (types & kCds) urls.emplace_back(type_url::kCluster);
  if (types & kEds) urls.emplace_back(type_url::kEndpoint);
  if (types & kLds) urls.emplace_back(type_url::kListener);
  if (types & kRds) urls.emplace_back(type_url::kRoute);
  ads_->push(urls);
}

PushCache& DiscoveryServer::cache() {
  cache_used_ = Clock::now();
  if (!cache_ || cache_->push() != push_) {
    cache_ = std::make_unique<PushCache>(push_);
    dropCacheWhenIdle();
  }
  return *cache_;
}

// The cache matters while a push (or a wave of connections) is being served; kept longer it would
// hold every namespace's route configurations for nothing.
constexpr auto kCacheIdle = std::chrono::seconds(5);

void DiscoveryServer::dropCacheWhenIdle() {
  cache_timer_.expires_at(cache_used_ + kCacheIdle);
  cache_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive || !cache_) return;
    if (Clock::now() < cache_used_ + kCacheIdle) {
      dropCacheWhenIdle();
      return;
    }
    cache_.reset();
    malloc_trim(0);  // hand the freed pages back: a push's transient buffers are many megabytes
  });
}

DiscoveryServer::ProxyState* DiscoveryServer::proxyFor(const envoy::config::core::v3::Node& node, std::string& error) {
  auto& state = proxies_[node.id()];
  if (!state) {
    auto parsed = ProxyNode::parse(node, error);
    if (!parsed) {
      proxies_.erase(node.id());
      return nullptr;
    }
    state = std::make_unique<ProxyState>();
    state->node = std::move(*parsed);
  }
  if (state->push != push_) {
    state->view.reset();
    state->push = push_;
    state->view = cache().view(state->node);
  }
  return state.get();
}

std::optional<net::xds::Resources> DiscoveryServer::resources(const envoy::config::core::v3::Node& node,
                                                              std::string_view url,
                                                              const std::vector<std::string>& names) {
  std::string error;
  ProxyState* state = proxyFor(node, error);
  if (state == nullptr) {
    observe::logScope("ads").warn("cannot serve {}: {}", node.id(), error);
    return std::nullopt;
  }
  const auto& view = *state->view;
  // Outbound clusters, load assignments and sidecar routes are shared through the push cache;
  // the proxy's own clusters and its listeners are built for it.
  PushCache& shared = cache();
  Assembly out(url);
  if (url == type_url::kCluster) {
    for (const auto* p : shared.outboundClusters(view)) out.add(*p);
    for (const auto& c : xds::buildLocalClusters(view)) out.add(PushCache::pack(c, c.name()));
  } else if (url == type_url::kListener) {
    for (const auto& l : xds::buildListeners(view)) out.add(PushCache::pack(l, l.name()));
  } else if (url == type_url::kEndpoint) {
    for (const auto& name : names)
      if (const auto* p = shared.loadAssignment(view, name)) out.add(*p);
  } else if (url == type_url::kRoute) {
    for (const auto& name : names) {
      if (const auto* p = shared.routeConfiguration(view, name)) {
        out.add(*p);
        continue;
      }
      // An unknown name still gets an (empty) answer, or the proxy's listener never warms.
      envoy::config::route::v3::RouteConfiguration rc;
      rc.set_name(name);
      out.add(PushCache::pack(rc, name));
    }
  } else {
    return std::nullopt;
  }
  return out.finish();
}

std::optional<DiscoveryServer::Generated> DiscoveryServer::generateFor(const std::string& node_id,
                                                                       std::string& error) const {
  envoy::config::core::v3::Node node;
  node.set_id(node_id);
  auto parsed = ProxyNode::parse(node, error);
  if (!parsed) return std::nullopt;
  // A connected proxy's own metadata (labels, network) matters: use its state when there is one.
  auto it = proxies_.find(node_id);
  const ProxyNode& proxy = it != proxies_.end() ? it->second->node : *parsed;
  xds::ProxyView view(*push_, proxy);
  Generated g;
  g.clusters = xds::buildClusters(view);
  g.listeners = xds::buildListeners(view);
  std::set<std::string> routes;
  for (const auto& c : g.clusters)
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS)
      if (auto cla = xds::buildLoadAssignment(view, c.name())) g.endpoints.push_back(std::move(*cla));
  for (const auto& l : g.listeners)
    for (const auto& chain : l.filter_chains())
      for (const auto& f : chain.filters()) {
        envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
        if (f.typed_config().UnpackTo(&hcm) && hcm.has_rds()) routes.insert(hcm.rds().route_config_name());
      }
  for (const auto& name : routes)
    if (auto rc = xds::buildRouteConfiguration(view, name)) g.routes.push_back(std::move(*rc));
  return g;
}

}  // namespace monomesh::pilot
