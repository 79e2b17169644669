// The WATCH and LIST wire formats: event lines and list pages into typed resources, and every
// kind of bad input (malformed JSON, oversized lines, unknown types, wrong kinds, missing
// metadata, invalid Istio objects).
#include <boost/test/unit_test.hpp>

#include "config/kube/kube_list_page.h"
#include "config/kube/kube_watch_event.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"
#include "k8s/api/core/v1/core.pb.h"

using namespace monomesh::config;
using namespace monomesh::config::kube;

namespace {

const Schema& kindOf(std::string_view api_version, std::string_view kind) {
  return *SchemaRegistry::builtin().find(api_version, kind);
}
const Schema& service() { return kindOf("v1", "Service"); }
const Schema& virtualService() { return kindOf("networking.istio.io/v1alpha3", "VirtualService"); }

LoadOptions options() {
  LoadOptions o;
  o.cluster_id = "east";
  return o;
}

WatchEventParse parse(const std::string& line, const Schema& kind = virtualService()) {
  return parseWatchEvent(line, kind, options(), "kube:east/test");
}

const std::string kVs =
    R"({"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService",)"
    R"("metadata":{"name":"reviews","namespace":"bookinfo","resourceVersion":"42","uid":"u-1","generation":3},)"
    R"("spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews","subset":"v1"}}]}]}})";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(kube_watch_event)

BOOST_AUTO_TEST_CASE(added_event_becomes_a_typed_resource) {
  auto parsed = parse(R"({"type":"ADDED","object":)" + kVs + "}");
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);
  BOOST_TEST(int(parsed.event->type) == int(WatchEventType::Added));
  const KubeObject& object = parsed.event->object;
  BOOST_REQUIRE(object.resource);
  BOOST_TEST(object.resource->meta.name == "reviews");
  BOOST_TEST(object.resource->meta.namespace_ == "bookinfo");
  BOOST_TEST(object.resource->meta.resource_version == "42");
  BOOST_TEST(object.resource->meta.generation == 3);
  BOOST_TEST(object.resource->cluster_id == "east");
  BOOST_TEST(object.resource_version == "42");
  const auto& vs = object.resource->as<istio::networking::v1alpha3::VirtualService>();
  BOOST_TEST(vs.hosts(0) == "reviews");
  BOOST_TEST(vs.http(0).route(0).destination().subset() == "v1");
}

BOOST_AUTO_TEST_CASE(kubernetes_objects_are_lenient) {
  // status, managedFields and fields the mesh does not model are skipped for built-in kinds.
  auto parsed = parse(R"({"type":"MODIFIED","object":{"apiVersion":"v1","kind":"Service","metadata":{"name":"web",)"
                      R"("namespace":"default","resourceVersion":"7","managedFields":[{"manager":"kubectl"}]},)"
                      R"("spec":{"ports":[{"port":80,"name":"http"}],"futureField":true},"status":{"loadBalancer":{}}}})",
                      service());
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);
  BOOST_REQUIRE(parsed.event->object.resource);
  const auto& svc = parsed.event->object.resource->as<k8s::io::api::core::v1::Service>();
  BOOST_TEST(svc.spec().ports(0).port() == 80);
}

BOOST_AUTO_TEST_CASE(invalid_istio_object_is_reported_with_its_key) {
  auto parsed = parse(R"({"type":"ADDED","object":{"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService",)"
                      R"("metadata":{"name":"bad","namespace":"ns","resourceVersion":"9"},"spec":{"hostz":["x"]}}})");
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);  // the line is fine; the object is not
  const KubeObject& object = parsed.event->object;
  BOOST_TEST(!object.resource);
  BOOST_TEST(object.name == "bad");
  BOOST_TEST(object.namespace_ == "ns");
  BOOST_TEST(object.resource_version == "9");
  BOOST_REQUIRE(!object.errors.empty());
  BOOST_TEST(contains(object.errors[0].str(), "spec.hostz"));
  BOOST_TEST(contains(object.errors[0].str(), "VirtualService ns/bad"));
}

BOOST_AUTO_TEST_CASE(wrong_kind_is_an_invalid_object) {
  auto parsed = parse(R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"n"}}})");
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);
  BOOST_TEST(!parsed.event->object.resource);
  BOOST_REQUIRE(!parsed.event->object.errors.empty());
  BOOST_TEST(contains(parsed.event->object.errors[0].message,
                      "expected networking.istio.io/v1alpha3 VirtualService, got v1 ConfigMap"));
}

BOOST_AUTO_TEST_CASE(missing_metadata_is_an_invalid_object) {
  auto parsed = parse(R"({"type":"ADDED","object":{"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService","spec":{}}})");
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);
  BOOST_TEST(!parsed.event->object.resource);
  BOOST_TEST(!parsed.event->object.hasKey());
  BOOST_REQUIRE(!parsed.event->object.errors.empty());
  BOOST_TEST(contains(parsed.event->object.errors[0].str(), "metadata"));
  auto no_name = parse(R"({"type":"DELETED","object":{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"n"}}})", service());
  BOOST_REQUIRE(no_name.event);
  BOOST_TEST(!no_name.event->object.hasKey());
}

BOOST_AUTO_TEST_CASE(bookmark_and_error_events) {
  auto bookmark = parse(R"({"type":"BOOKMARK","object":{"kind":"VirtualService","metadata":{"resourceVersion":"12345"}}})");
  BOOST_REQUIRE_MESSAGE(bookmark.event, bookmark.error);
  BOOST_TEST(int(bookmark.event->type) == int(WatchEventType::Bookmark));
  BOOST_TEST(bookmark.event->object.resource_version == "12345");

  auto gone = parse(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                    R"j("message":"too old resource version: 5 (10)","reason":"Expired","code":410}})j");
  BOOST_REQUIRE_MESSAGE(gone.event, gone.error);
  BOOST_TEST(int(gone.event->type) == int(WatchEventType::Error));
  BOOST_TEST(gone.event->code == 410);
  BOOST_TEST(gone.event->message == "too old resource version: 5 (10)");
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_stream_errors) {
  BOOST_TEST(contains(parse(R"({"type":"ADDED","object":{)").error, "malformed event"));
  BOOST_TEST(contains(parse("not json at all").error, "expected a JSON object"));
  BOOST_TEST(contains(parse("[1,2]").error, "expected a JSON object"));
  BOOST_TEST(contains(parse(R"({"object":{}})").error, "no \"type\""));
  BOOST_TEST(contains(parse(R"({"type":"RENAMED","object":{}})").error, "unknown event type \"RENAMED\""));
  BOOST_TEST(contains(parse(R"({"type":"ADDED"})").error, "ADDED event without an \"object\""));
  BOOST_TEST(contains(parse(R"({"type":"ADDED","object":"x"})").error, "without an \"object\""));
  BOOST_TEST(contains(parse(R"({"type":"BOOKMARK","object":{"metadata":{}}})").error, "BOOKMARK event without metadata.resourceVersion"));
}

BOOST_AUTO_TEST_CASE(json_escapes_survive) {
  auto parsed = parse(R"({"type":"ADDED","object":{"apiVersion":"v1","kind":"Service","metadata":{"name":"e","namespace":"n",)"
                      R"("annotations":{"note":"caf\u00e9 \"q\" a\/b\ttab"}}}})",
                      service());
  BOOST_REQUIRE_MESSAGE(parsed.event, parsed.error);
  BOOST_REQUIRE(parsed.event->object.resource);
  BOOST_TEST(parsed.event->object.resource->meta.annotations.at("note") == "caf\xc3\xa9 \"q\" a/b\ttab");
}

BOOST_AUTO_TEST_CASE(line_buffer_splits_and_bounds_lines) {
  WatchLineBuffer lines(16);
  BOOST_TEST(lines.append("{\"a\":1}\n{\"b\""));
  BOOST_TEST(*lines.next() == "{\"a\":1}");
  BOOST_TEST(!lines.next());
  BOOST_TEST(lines.append(":2}\r\n\n"));
  BOOST_TEST(*lines.next() == "{\"b\":2}");
  BOOST_TEST(!lines.next());
  BOOST_TEST(lines.pending() == 0);

  WatchLineBuffer unfinished(16);
  BOOST_TEST(unfinished.append("0123456789"));
  BOOST_TEST(!unfinished.append("0123456789"));  // 20 bytes and no newline yet

  WatchLineBuffer whole(16);
  BOOST_TEST(!whole.append(std::string(17, 'x') + "\n"));  // a long line that arrived complete
  WatchLineBuffer exact(16);
  BOOST_TEST(exact.append(std::string(16, 'x') + "\n"));
}

BOOST_AUTO_TEST_CASE(list_page_items_without_kind_and_a_bad_item) {
  std::string body =
      R"({"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"77","continue":"abc"},"items":[)"
      R"({"metadata":{"name":"a","namespace":"default","resourceVersion":"70"},"spec":{"ports":[{"port":80}]}},)"
      R"({"metadata":{"name":"Not_Valid","namespace":"default"}},)"
      R"({"metadata":{"name":"b","namespace":"default","resourceVersion":"71"}}]})";
  auto parsed = parseListPage(body, service(), options(), "kube:east/services");
  BOOST_REQUIRE_MESSAGE(parsed.page, parsed.error);
  BOOST_TEST(parsed.page->resource_version == "77");
  BOOST_TEST(parsed.page->continue_token == "abc");
  BOOST_REQUIRE(parsed.page->items.size() == 3u);
  BOOST_TEST(parsed.page->items[0].resource->meta.resource_version == "70");
  BOOST_TEST(!parsed.page->items[1].resource);
  BOOST_TEST(contains(parsed.page->items[1].errors[0].str(), "metadata.name"));
  BOOST_TEST(parsed.page->items[2].resource->meta.name == "b");
}

BOOST_AUTO_TEST_CASE(bad_list_pages) {
  auto page = [](const std::string& body) { return parseListPage(body, service(), options(), "kube:east/services").error; };
  BOOST_TEST(contains(page("{\"items\":["), "malformed list response"));
  BOOST_TEST(contains(page("[]"), "expected a JSON object"));
  BOOST_TEST(contains(page(R"({"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[]})"), "expected a ServiceList, got PodList"));
  BOOST_TEST(contains(page(R"({"kind":"ServiceList","metadata":{},"items":[]})"), "without metadata.resourceVersion"));
  BOOST_TEST(contains(page(R"({"kind":"ServiceList","metadata":{"resourceVersion":"1"},"items":{}})"), "items: expected a list"));
  BOOST_TEST(page(R"({"kind":"ServiceList","metadata":{"resourceVersion":"1"},"items":null})").empty());
}

BOOST_AUTO_TEST_CASE(collection_paths) {
  BOOST_TEST(collectionPath(service()) == "/api/v1/services");
  BOOST_TEST(collectionPath(virtualService()) == "/apis/networking.istio.io/v1alpha3/virtualservices");
  BOOST_TEST(collectionPath(kindOf("authentication.istio.io/v1alpha1", "MeshPolicy")) ==
             "/apis/authentication.istio.io/v1alpha1/meshpolicies");
}

BOOST_AUTO_TEST_SUITE_END()
