// ListenerDiscovery: LDS adds, replaces and removes dynamic listeners (bootstrap ones stay);
// listeners whose RDS routes have not arrived warm; a bad listener, an address change or an
// address clash rejects the whole response and changes nothing; listeners that cannot be bound
// are dropped; initialization waits for the first LDS response and its warming listeners.
#include <boost/test/unit_test.hpp>

#include "envoy/config/listener/v3/listener.pb.h"
#include "proxy/listener/listener_discovery.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::contains;
using monomesh::proxy::testing::fromYaml;
namespace lv3 = envoy::config::listener::v3;
using Resources = std::vector<google::protobuf::Any>;

namespace {

const char* kHcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

// An HTTP listener on 127.0.0.1:`port` with inline routes, or routes from RDS `rds`.
std::string listener(const std::string& name, int port, const std::string& rds = "", const std::string& extra = "") {
  std::string routes = rds.empty() ? "route_config: {virtual_hosts: [{name: vh, domains: ['*'], routes: [{match: {prefix: /}, "
                                     "direct_response: {status: 200}}]}]}"
                                   : "rds: {route_config_name: " + rds + ", config_source: {ads: {}" + extra + "}}";
  return "name: " + name + "\naddress: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(port) +
         "}}\nfilter_chains:\n- filters:\n  - name: envoy.filters.network.http_connection_manager\n    typed_config:\n" +
         "      \"@type\": " + kHcmType + "\n      stat_prefix: " + name + "\n      " + routes +
         "\n      http_filters: [{name: envoy.filters.http.router}]\n";
}

struct Fixture {
  boost::asio::io_context io;
  monomesh::observe::StatsStore stats;
  std::set<std::string> routes_arrived;
  std::set<std::string> routes_wanted;
  std::set<std::string> unbindable;  // names the fake server cannot bind
  std::vector<ListenerChange> changes;
  int initialized = 0;
  std::unique_ptr<ListenerDiscovery> lds;

  Fixture() {
    ListenerDiscovery::Hooks h;
    h.compile = [this](const lv3::Listener& l) { return ListenerConfig::compile(l, stats); };
    h.apply = [this](const ListenerChange& c) {
      changes.push_back(c);
      std::vector<std::string> failed;
      for (const auto& l : c.added)
        if (unbindable.count(l->name)) failed.push_back(l->name);
      return failed;
    };
    h.want_routes = [this](const std::set<std::string>& names) { routes_wanted = names; };
    h.routes_ready = [this](const std::string& name) { return routes_arrived.count(name) != 0; };
    h.initialized = [this] { ++initialized; };
    lds = std::make_unique<ListenerDiscovery>(io, stats, std::move(h));
  }
  std::shared_ptr<const ListenerConfig> compile(const std::string& yaml) {
    return ListenerConfig::compile(fromYaml<lv3::Listener>(yaml), stats);
  }
  std::optional<std::string> listeners(const std::string& version, const std::vector<std::string>& yamls) {
    Resources r;
    for (const auto& y : yamls) r.emplace_back().PackFrom(fromYaml<lv3::Listener>(y));
    return lds->onListeners(version, r);
  }
  static std::vector<std::string> names(const std::vector<std::shared_ptr<const ListenerConfig>>& v) {
    std::vector<std::string> out;
    for (const auto& l : v) out.push_back(l->name);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> active() { return changes.empty() ? std::vector<std::string>{} : names(changes.back().active); }
  int64_t stat(const std::string& name) { return stats.values()[name]; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(listener_discovery)

BOOST_AUTO_TEST_CASE(lds_adds_listeners_and_initializes) {
  Fixture f;
  f.lds->start({f.compile(listener("admin-ish", 15000))}, true, std::chrono::seconds(15));
  BOOST_TEST(f.initialized == 0);
  BOOST_TEST(f.active() == std::vector<std::string>{"admin-ish"});
  BOOST_TEST(!f.listeners("1", {listener("http", 8080)}));
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.active() == (std::vector<std::string>{"admin-ish", "http"}));
  BOOST_TEST(Fixture::names(f.changes.back().added) == std::vector<std::string>{"http"});
  BOOST_TEST(f.stat("listener_manager.lds.update_success") == 1);
  BOOST_TEST(f.stat("listener_manager.listener_added") == 1);
  BOOST_TEST(f.stat("listener_manager.total_listeners_active") == 2);
}

BOOST_AUTO_TEST_CASE(a_listener_warms_until_its_routes_arrive) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("http", 8080, "http.8080")}));
  BOOST_TEST(f.routes_wanted == std::set<std::string>{"http.8080"});
  BOOST_TEST(f.changes.empty());  // nothing to bind yet
  BOOST_TEST(f.initialized == 0);
  BOOST_TEST(f.stat("listener_manager.total_listeners_warming") == 1);
  f.lds->onRoutes();  // other routes: still warming
  BOOST_TEST(f.changes.empty());
  f.routes_arrived.insert("http.8080");
  f.lds->onRoutes();
  BOOST_TEST(f.active() == std::vector<std::string>{"http"});
  BOOST_TEST(f.initialized == 1);
  envoy::admin::v3::ListenersConfigDump dump;
  f.lds->dump(dump);
  BOOST_TEST(dump.version_info() == "1");
  BOOST_TEST_REQUIRE(dump.dynamic_listeners_size() == 1);
  BOOST_TEST(dump.dynamic_listeners(0).active_state().version_info() == "1");
  BOOST_TEST(!dump.dynamic_listeners(0).has_warming_state());
}

BOOST_AUTO_TEST_CASE(a_listener_serves_without_routes_after_initial_fetch_timeout) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("http", 8080, "never", ", initial_fetch_timeout: 0.05s")}));
  BOOST_TEST(f.initialized == 0);
  f.io.run_for(std::chrono::seconds(2));
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.active() == std::vector<std::string>{"http"});
}

BOOST_AUTO_TEST_CASE(a_changed_listener_keeps_its_socket_and_drains_its_old_form) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("a", 8080), listener("b", 8081)}));
  auto old_a = f.changes.back().active;
  BOOST_TEST(!f.listeners("2", {listener("a", 8080, "", ""), listener("b", 8081, "routes-b")}));
  // "b" changed to RDS routes that have not arrived: its old form serves meanwhile.
  BOOST_TEST(f.changes.size() == 1u);
  f.routes_arrived.insert("routes-b");
  f.lds->onRoutes();
  BOOST_TEST_REQUIRE(f.changes.size() == 2u);
  const auto& c = f.changes.back();
  BOOST_TEST(c.added.empty());
  BOOST_TEST(c.closed.empty());
  BOOST_TEST(Fixture::names(c.drained) == std::vector<std::string>{"b"});
  BOOST_TEST(f.stat("listener_manager.listener_modified") == 1);
}

BOOST_AUTO_TEST_CASE(removed_listeners_close_and_drain) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("a", 8080), listener("b", 8081)}));
  BOOST_TEST(!f.listeners("2", {listener("a", 8080)}));
  const auto& c = f.changes.back();
  BOOST_TEST(c.closed == std::vector<std::string>{"b"});
  BOOST_TEST(Fixture::names(c.drained) == std::vector<std::string>{"b"});
  BOOST_TEST(Fixture::names(c.active) == std::vector<std::string>{"a"});
  BOOST_TEST(f.stat("listener_manager.listener_removed") == 1);
  // The same response again changes nothing.
  size_t n = f.changes.size();
  BOOST_TEST(!f.listeners("3", {listener("a", 8080)}));
  BOOST_TEST(f.changes.size() == n);
}

BOOST_AUTO_TEST_CASE(draining_forms_are_dumped_until_their_drain_ends) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("a", 8080), listener("b", 8081)}));
  BOOST_TEST(!f.listeners("2", {listener("a", 8080, "", ""), listener("b", 8081, "", "")}));  // same: nothing drains
  BOOST_TEST(f.stat("listener_manager.total_listeners_draining") == 0);
  f.routes_arrived.insert("routes-a");
  BOOST_TEST(!f.listeners("3", {listener("a", 8080, "routes-a")}));  // a replaced, b removed
  auto drained = f.changes.back().drained;
  BOOST_TEST(Fixture::names(drained) == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(f.stat("listener_manager.total_listeners_draining") == 2);
  envoy::admin::v3::ListenersConfigDump dump;
  f.lds->dump(dump);
  BOOST_TEST_REQUIRE(dump.dynamic_listeners_size() == 2);
  const auto& a = dump.dynamic_listeners(0);
  BOOST_TEST(a.name() == "a");
  BOOST_TEST(a.active_state().version_info() == "3");
  BOOST_TEST(a.draining_state().version_info() == "2");  // the form it was last sent with
  BOOST_TEST(a.draining_state().has_last_updated());
  lv3::Listener old_a;
  BOOST_TEST_REQUIRE(a.draining_state().listener().UnpackTo(&old_a));
  BOOST_TEST(old_a.name() == "a");
  const auto& b = dump.dynamic_listeners(1);
  BOOST_TEST(b.name() == "b");
  BOOST_TEST(!b.has_active_state());
  BOOST_TEST(b.has_draining_state());

  f.lds->drained(drained);
  BOOST_TEST(f.stat("listener_manager.total_listeners_draining") == 0);
  envoy::admin::v3::ListenersConfigDump after;
  f.lds->dump(after);
  BOOST_TEST_REQUIRE(after.dynamic_listeners_size() == 1);
  BOOST_TEST(!after.dynamic_listeners(0).has_draining_state());
}

BOOST_AUTO_TEST_CASE(bad_responses_are_rejected_whole) {
  Fixture f;
  f.lds->start({f.compile(listener("static", 15001))}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("a", 8080)}));
  size_t n = f.changes.size();
  auto bad = f.listeners("2", {listener("new", 8090), "name: broken\naddress: {socket_address: {address: 127.0.0.1, "
                                                      "port_value: 8091}}\nfilter_chains: [{filters: [{name: no.such.filter}]}]\n"});
  BOOST_TEST_REQUIRE(bad.has_value());
  BOOST_TEST(contains(*bad, "listener \"broken\": filter_chains[0].filters[0] (no.such.filter): unknown network filter"), *bad);
  auto moved = f.listeners("3", {listener("a", 9090)});
  BOOST_TEST_REQUIRE(moved.has_value());
  BOOST_TEST(contains(*moved, "listener \"a\": address: cannot change from 127.0.0.1:8080 to 127.0.0.1:9090"), *moved);
  auto clash = f.listeners("4", {listener("a", 8080), listener("c", 15001)});
  BOOST_TEST_REQUIRE(clash.has_value());
  BOOST_TEST(contains(*clash, "address 127.0.0.1:15001 is already used by listener \"static\""), *clash);
  auto unnamed = f.listeners("5", {"address: {socket_address: {address: 127.0.0.1, port_value: 1}}\n"});
  BOOST_TEST_REQUIRE(unnamed.has_value());
  BOOST_TEST(contains(*unnamed, "a listener without a name"), *unnamed);
  BOOST_TEST(f.changes.size() == n);  // nothing changed
  BOOST_TEST(f.stat("listener_manager.lds.update_rejected") == 4);
  envoy::admin::v3::ListenersConfigDump dump;
  f.lds->dump(dump);
  BOOST_TEST(dump.version_info() == "1");
  BOOST_TEST(dump.static_listeners_size() == 1);
}

BOOST_AUTO_TEST_CASE(bootstrap_listeners_cannot_be_replaced) {
  Fixture f;
  f.lds->start({f.compile(listener("static", 15001))}, true, std::chrono::seconds(15));
  BOOST_TEST(!f.listeners("1", {listener("static", 15002)}));
  BOOST_TEST(f.active() == std::vector<std::string>{"static"});
  BOOST_TEST(f.changes.back().active.at(0)->address.port() == 15001);
}

BOOST_AUTO_TEST_CASE(listeners_that_cannot_be_bound_are_dropped) {
  Fixture f;
  f.lds->start({}, true, std::chrono::seconds(15));
  f.unbindable.insert("taken");
  BOOST_TEST(!f.listeners("1", {listener("ok", 8080), listener("taken", 8081)}));
  BOOST_TEST(f.stat("listener_manager.listener_create_failure") == 1);
  BOOST_TEST(f.stat("listener_manager.total_listeners_active") == 1);
  // Sent again, it is tried again.
  f.unbindable.clear();
  BOOST_TEST(!f.listeners("2", {listener("ok", 8080), listener("taken", 8081)}));
  BOOST_TEST(Fixture::names(f.changes.back().added) == std::vector<std::string>{"taken"});
}

BOOST_AUTO_TEST_CASE(recompiled_bootstrap_listeners_are_swapped_in_without_draining) {
  Fixture f;
  auto first = f.compile(listener("static", 15001));
  f.lds->start({first}, false, std::chrono::seconds(15));
  auto second = f.compile(listener("static", 15001));  // e.g. new certificates
  f.lds->replaceBootstrap({second});
  const auto& c = f.changes.back();
  BOOST_TEST_REQUIRE(c.active.size() == 1u);
  BOOST_TEST(c.active[0] == second);
  BOOST_TEST(c.added.empty());
  BOOST_TEST(c.drained.empty());  // open connections keep their TLS contexts
}

BOOST_AUTO_TEST_CASE(bootstrap_listeners_with_rds_warm_too) {
  Fixture f;
  f.lds->start({f.compile(listener("static", 15001, "static-routes"))}, false, std::chrono::seconds(15));
  BOOST_TEST(f.routes_wanted == std::set<std::string>{"static-routes"});
  BOOST_TEST(f.initialized == 0);
  f.routes_arrived.insert("static-routes");
  f.lds->onRoutes();
  BOOST_TEST(f.initialized == 1);
  BOOST_TEST(f.active() == std::vector<std::string>{"static"});
}

BOOST_AUTO_TEST_SUITE_END()
