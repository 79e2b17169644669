// Store: transactions, versions, watches and immutable snapshots.
#include <boost/test/unit_test.hpp>

#include "config/store.h"
#include "config_test_util.h"
#include "istio/networking/v1alpha3/destination_rule.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace net = istio::networking::v1alpha3;
using namespace monomesh::config;
using monomesh::config::testing::schemaOf;

namespace {

const Schema* vsKind() { return schemaOf("networking.istio.io/v1alpha3", "VirtualService"); }
const Schema* drKind() { return schemaOf("networking.istio.io/v1alpha3", "DestinationRule"); }

Resource virtualService(const std::string& ns, const std::string& name, const std::string& host) {
  auto body = std::make_shared<net::VirtualService>();
  body->add_hosts(host);
  Resource r;
  r.schema = vsKind();
  r.meta.name = name;
  r.meta.namespace_ = ns;
  r.body = body;
  r.origin = SourcePosition{"test.yaml", 1, 1};
  return r;
}

Resource destinationRule(const std::string& ns, const std::string& name, const std::string& host) {
  auto body = std::make_shared<net::DestinationRule>();
  body->set_host(host);
  Resource r;
  r.schema = drKind();
  r.meta.name = name;
  r.meta.namespace_ = ns;
  r.body = body;
  return r;
}

std::string hostOf(const ResourcePtr& r) { return r->as<net::VirtualService>().hosts(0); }

std::vector<std::string> names(const std::vector<ResourcePtr>& list) {
  std::vector<std::string> out;
  for (const auto& r : list) out.push_back(r->meta.namespace_ + "/" + r->meta.name);
  return out;
}

struct Recorded {
  std::vector<std::vector<Event>> batches;
  std::vector<uint64_t> versions;
};

Store::Watcher recorder(Recorded& rec) {
  return [&rec](const std::vector<Event>& events, const StoreSnapshot& snapshot) {
    rec.batches.push_back(events);
    rec.versions.push_back(snapshot.version());
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(new_store_is_empty_at_version_zero) {
  Store store;
  BOOST_TEST(store.version() == 0u);
  BOOST_TEST(store.snapshot()->size() == 0u);
  BOOST_TEST(store.snapshot()->list(vsKind()).empty());
}

BOOST_AUTO_TEST_CASE(one_transaction_is_one_version_step) {
  Store store;
  uint64_t v = store.apply({Upsert{virtualService("a", "x", "h1")}, Upsert{virtualService("a", "y", "h2")},
                            Upsert{destinationRule("a", "x", "h1")}});
  BOOST_TEST(v == 1u);
  BOOST_TEST(store.version() == 1u);
  BOOST_TEST(store.snapshot()->size() == 3u);
  v = store.apply({Upsert{virtualService("a", "x", "changed")}, Delete{ResourceKey{vsKind(), "a", "y"}}});
  BOOST_TEST(v == 2u);
  auto snap = store.snapshot();
  BOOST_TEST(snap->size() == 2u);
  BOOST_TEST(hostOf(snap->get(vsKind(), "a", "x")) == "changed");
  BOOST_TEST(snap->get(vsKind(), "a", "y") == nullptr);
}

BOOST_AUTO_TEST_CASE(revision_is_the_version_that_last_wrote_it) {
  Store store;
  store.apply({Upsert{virtualService("a", "x", "h")}, Upsert{virtualService("a", "y", "h")}});
  store.apply({Upsert{virtualService("a", "y", "h2")}});
  auto snap = store.snapshot();
  BOOST_TEST(snap->get(vsKind(), "a", "x")->revision == 1u);
  BOOST_TEST(snap->get(vsKind(), "a", "y")->revision == 2u);
}

BOOST_AUTO_TEST_CASE(identical_upsert_is_a_no_op) {
  Store store;
  Recorded rec;
  store.apply({Upsert{virtualService("a", "x", "h")}});
  auto before = store.snapshot();
  store.watch(recorder(rec));
  // Same content from a different place: origin and revision do not count.
  Resource same = virtualService("a", "x", "h");
  same.origin = SourcePosition{"elsewhere.yaml", 9, 9};
  uint64_t v = store.apply({Upsert{same}});
  BOOST_TEST(v == 1u);
  BOOST_TEST(store.version() == 1u);
  BOOST_TEST(rec.batches.empty());
  BOOST_TEST(store.snapshot() == before);
}

BOOST_AUTO_TEST_CASE(delete_of_a_missing_key_is_a_no_op) {
  Store store;
  Recorded rec;
  store.watch(recorder(rec));
  BOOST_TEST(store.apply({Delete{ResourceKey{vsKind(), "a", "missing"}}}) == 0u);
  BOOST_TEST(store.apply({}) == 0u);
  BOOST_TEST(rec.batches.empty());
}

BOOST_AUTO_TEST_CASE(label_change_is_an_update) {
  Store store;
  store.apply({Upsert{virtualService("a", "x", "h")}});
  Resource labelled = virtualService("a", "x", "h");
  labelled.meta.labels["app"] = "reviews";
  BOOST_TEST(store.apply({Upsert{labelled}}) == 2u);
}

BOOST_AUTO_TEST_CASE(watch_receives_one_batch_with_added_updated_deleted) {
  Store store;
  store.apply({Upsert{virtualService("a", "upd", "old")}, Upsert{virtualService("a", "del", "h")}});
  Recorded rec;
  store.watch(recorder(rec));
  store.apply({Upsert{virtualService("a", "new", "h")}, Upsert{virtualService("a", "upd", "new")},
               Delete{ResourceKey{vsKind(), "a", "del"}}});
  BOOST_TEST_REQUIRE(rec.batches.size() == 1u);
  BOOST_TEST(rec.versions[0] == 2u);
  const auto& events = rec.batches[0];
  BOOST_TEST_REQUIRE(events.size() == 3u);

  BOOST_TEST((events[0].type == EventType::Added));
  BOOST_TEST(events[0].resource->meta.name == "new");
  BOOST_TEST(events[0].previous == nullptr);

  BOOST_TEST((events[1].type == EventType::Updated));
  BOOST_TEST(hostOf(events[1].resource) == "new");
  BOOST_TEST_REQUIRE(events[1].previous != nullptr);
  BOOST_TEST(hostOf(events[1].previous) == "old");
  BOOST_TEST(events[1].previous->revision == 1u);
  BOOST_TEST(events[1].resource->revision == 2u);

  BOOST_TEST((events[2].type == EventType::Deleted));
  BOOST_TEST(events[2].resource->meta.name == "del");
}

BOOST_AUTO_TEST_CASE(watcher_sees_the_committed_snapshot) {
  Store store;
  size_t seen_size = 0;
  store.watch([&](const std::vector<Event>&, const StoreSnapshot& snapshot) {
    seen_size = snapshot.size();
    BOOST_TEST(snapshot.get(vsKind(), "a", "x") != nullptr);
  });
  store.apply({Upsert{virtualService("a", "x", "h")}, Upsert{virtualService("b", "x", "h")}});
  BOOST_TEST(seen_size == 2u);
}

BOOST_AUTO_TEST_CASE(kind_filtered_watch) {
  Store store;
  Recorded vs_only, all;
  store.watch(recorder(vs_only), vsKind());
  store.watch(recorder(all));
  store.apply({Upsert{destinationRule("a", "x", "h")}});
  BOOST_TEST(vs_only.batches.empty());
  BOOST_TEST(all.batches.size() == 1u);

  store.apply({Upsert{destinationRule("a", "y", "h")}, Upsert{virtualService("a", "x", "h")}});
  BOOST_TEST_REQUIRE(vs_only.batches.size() == 1u);
  BOOST_TEST_REQUIRE(vs_only.batches[0].size() == 1u);
  BOOST_TEST(vs_only.batches[0][0].resource->schema == vsKind());
  BOOST_TEST(vs_only.versions[0] == 2u);
  BOOST_TEST(all.batches.size() == 2u);
  BOOST_TEST(all.batches[1].size() == 2u);
}

BOOST_AUTO_TEST_CASE(unwatch_stops_delivery) {
  Store store;
  Recorded kept, dropped;
  store.watch(recorder(kept));
  Store::WatchId id = store.watch(recorder(dropped));
  store.apply({Upsert{virtualService("a", "x", "h")}});
  store.unwatch(id);
  store.apply({Upsert{virtualService("a", "y", "h")}});
  BOOST_TEST(kept.batches.size() == 2u);
  BOOST_TEST(dropped.batches.size() == 1u);
}

BOOST_AUTO_TEST_CASE(watch_ids_are_distinct) {
  Store store;
  auto a = store.watch([](const std::vector<Event>&, const StoreSnapshot&) {});
  auto b = store.watch([](const std::vector<Event>&, const StoreSnapshot&) {});
  BOOST_TEST(a != b);
}

BOOST_AUTO_TEST_CASE(old_snapshot_keeps_old_data) {
  Store store;
  store.apply({Upsert{virtualService("a", "x", "v1")}, Upsert{destinationRule("a", "x", "h")}});
  auto old = store.snapshot();
  store.apply({Upsert{virtualService("a", "x", "v2")}, Upsert{virtualService("a", "y", "v1")}});
  store.apply({Delete{ResourceKey{drKind(), "a", "x"}}});

  BOOST_TEST(old->version() == 1u);
  BOOST_TEST(old->size() == 2u);
  BOOST_TEST(hostOf(old->get(vsKind(), "a", "x")) == "v1");
  BOOST_TEST(old->get(vsKind(), "a", "y") == nullptr);
  BOOST_TEST(old->get(drKind(), "a", "x") != nullptr);

  auto now = store.snapshot();
  BOOST_TEST(now->version() == 3u);
  BOOST_TEST(hostOf(now->get(vsKind(), "a", "x")) == "v2");
  BOOST_TEST(now->get(drKind(), "a", "x") == nullptr);
}

BOOST_AUTO_TEST_CASE(untouched_kinds_share_resources_across_snapshots) {
  Store store;
  store.apply({Upsert{virtualService("a", "x", "h")}, Upsert{destinationRule("a", "x", "h")}});
  auto old = store.snapshot();
  store.apply({Upsert{destinationRule("a", "y", "h")}});
  BOOST_TEST(old->get(vsKind(), "a", "x") == store.snapshot()->get(vsKind(), "a", "x"));
}

BOOST_AUTO_TEST_CASE(list_by_namespace_is_sorted_by_name) {
  Store store;
  store.apply({Upsert{virtualService("b", "zeta", "h")}, Upsert{virtualService("b", "alpha", "h")},
               Upsert{virtualService("a", "mid", "h")}, Upsert{virtualService("bb", "alpha", "h")},
               Upsert{virtualService("b", "beta", "h")}});
  auto snap = store.snapshot();
  BOOST_TEST(names(snap->list(vsKind(), "b")) == (std::vector<std::string>{"b/alpha", "b/beta", "b/zeta"}),
             boost::test_tools::per_element());
  BOOST_TEST(names(snap->list(vsKind(), "a")) == (std::vector<std::string>{"a/mid"}), boost::test_tools::per_element());
  BOOST_TEST(snap->list(vsKind(), "missing").empty());
}

BOOST_AUTO_TEST_CASE(list_all_namespaces_is_sorted_by_namespace_then_name) {
  Store store;
  store.apply({Upsert{virtualService("b", "zeta", "h")}, Upsert{virtualService("b", "alpha", "h")},
               Upsert{virtualService("a", "mid", "h")}, Upsert{destinationRule("a", "other-kind", "h")}});
  auto all = store.snapshot()->list(vsKind());
  BOOST_TEST(names(all) == (std::vector<std::string>{"a/mid", "b/alpha", "b/zeta"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(get_missing_returns_nullptr) {
  Store store;
  BOOST_TEST(store.snapshot()->get(vsKind(), "a", "x") == nullptr);
  store.apply({Upsert{virtualService("a", "x", "h")}});
  auto snap = store.snapshot();
  BOOST_TEST(snap->get(vsKind(), "a", "y") == nullptr);
  BOOST_TEST(snap->get(vsKind(), "b", "x") == nullptr);
  BOOST_TEST(snap->get(drKind(), "a", "x") == nullptr);
  BOOST_TEST(snap->get(ResourceKey{vsKind(), "a", "x"}) != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
