// MCP over xDS, the envelope: which kinds travel under which type URL, packing and unpacking
// istio.mcp.v1alpha1.Resource, and every kind of bad envelope.
#include <boost/test/unit_test.hpp>

#include <set>

#include "config/loader.h"
#include "config/mcp/mcp_resource.h"
#include "../config_test_util.h"
#include "istio/mcp/v1alpha1/resource.pb.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

using namespace monomesh::config;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;
using monomesh::config::testing::schemaOf;

namespace {

Resource loadOne(const std::string& yaml) {
  LoadResult r = loadYaml(yaml, "test.yaml");
  BOOST_REQUIRE_MESSAGE(r.ok() && r.resources.size() == 1, joinErrors(r.errors));
  return r.resources.front();
}

const char* kReviews = R"(
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
  namespace: prod
  resourceVersion: "42"
  creationTimestamp: "2019-03-01T10:00:00Z"
  labels: {app: reviews, b: "2", a: "1"}
  annotations: {note: hello}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
)";

google::protobuf::Any envelope(const std::string& name, const std::string& body_type, const std::string& body) {
  istio::mcp::v1alpha1::Resource r;
  r.mutable_metadata()->set_name(name);
  r.mutable_body()->set_type_url(body_type);
  r.mutable_body()->set_value(body);
  google::protobuf::Any any;
  any.set_type_url(std::string(mcp::kResourceTypeUrl));
  any.set_value(r.SerializeAsString());
  return any;
}

const std::string kVsType = "type.googleapis.com/istio.networking.v1alpha3.VirtualService";

}  // namespace

BOOST_AUTO_TEST_SUITE(mcp_resource)

BOOST_AUTO_TEST_CASE(every_istio_kind_and_the_core_kinds_are_distributed_under_unique_urls) {
  auto kinds = mcp::distributedKinds();
  std::set<std::string> urls;
  size_t istio = 0;
  for (const Schema* kind : kinds) {
    BOOST_TEST(urls.insert(mcp::subscriptionUrl(*kind)).second, "duplicate URL for " << kind->kind);
    BOOST_TEST(mcp::kindForUrl(mcp::subscriptionUrl(*kind), kinds) == kind);
    BOOST_TEST(mcp::kindForUrl(kind->collection, kinds) == kind);
    if (SchemaRegistry::isIstioGroup(kind->group)) istio++;
  }
  BOOST_TEST(istio == 53u);
  BOOST_TEST(kinds.size() == 58u);  // + Service, Endpoints, Pod, Node, Namespace
  BOOST_TEST(mcp::subscriptionUrl(*schemaOf("networking.istio.io/v1alpha3", "VirtualService")) == kVsType);
  BOOST_TEST(mcp::subscriptionUrl(*schemaOf("v1", "Service")) == "type.googleapis.com/k8s.io.api.core.v1.Service");
  // Kinds sharing a message are named by collection; the shared type URL names none of them.
  BOOST_TEST(mcp::subscriptionUrl(*schemaOf("authentication.istio.io/v1alpha1", "MeshPolicy")) ==
             "istio/authentication/v1alpha1/meshpolicies");
  BOOST_TEST(mcp::kindForUrl("type.googleapis.com/istio.authentication.v1alpha1.Policy", kinds) == nullptr);
  BOOST_TEST(mcp::kindForUrl("type.googleapis.com/k8s.io.api.core.v1.Secret", kinds) == nullptr);
  BOOST_TEST(mcp::kindForUrl("", kinds) == nullptr);
}

BOOST_AUTO_TEST_CASE(pack_and_unpack_keep_metadata_and_body) {
  Resource vs = loadOne(kReviews);
  auto any = mcp::pack(vs);
  BOOST_TEST(any.type_url() == std::string(mcp::kResourceTypeUrl));
  istio::mcp::v1alpha1::Resource wire;
  BOOST_REQUIRE(wire.ParseFromString(any.value()));
  BOOST_TEST(wire.metadata().name() == "prod/reviews");
  BOOST_TEST(wire.metadata().version() == "42");
  BOOST_TEST(wire.metadata().create_time().seconds() == 1551434400);
  BOOST_TEST(wire.body().type_url() == kVsType);

  std::string error;
  auto back = mcp::unpack(any, *vs.schema, error);
  BOOST_REQUIRE_MESSAGE(back, error);
  BOOST_TEST(back->meta.name == "reviews");
  BOOST_TEST(back->meta.namespace_ == "prod");
  BOOST_TEST(back->meta.creation_timestamp == "2019-03-01T10:00:00Z");
  BOOST_TEST((back->meta.labels == vs.meta.labels));
  BOOST_TEST((back->meta.annotations == vs.meta.annotations));
  BOOST_TEST(back->as<istio::networking::v1alpha3::VirtualService>().hosts(0) == "reviews");
  // Deterministic: maps in sorted order, so equal content gives equal bytes and versions.
  BOOST_TEST(mcp::pack(*back).value() == any.value());
  BOOST_TEST(mcp::contentVersion({any}) == mcp::contentVersion({mcp::pack(vs)}));
  BOOST_TEST(mcp::contentVersion({any}) != mcp::contentVersion({}));
}

BOOST_AUTO_TEST_CASE(cluster_scoped_kinds_use_a_plain_name) {
  Resource mp = loadOne("apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\nmetadata: {name: default}\n"
                        "spec: {peers: [{mtls: {}}]}\n");
  auto any = mcp::pack(mp);
  std::string error;
  auto back = mcp::unpack(any, *mp.schema, error);
  BOOST_REQUIRE_MESSAGE(back, error);
  BOOST_TEST(back->meta.name == "default");
  BOOST_TEST(back->meta.namespace_.empty());
}

BOOST_AUTO_TEST_CASE(bad_envelopes_are_errors_naming_the_problem) {
  const Schema& vs = *schemaOf("networking.istio.io/v1alpha3", "VirtualService");
  istio::networking::v1alpha3::VirtualService body;
  body.add_hosts("r");
  std::string good = body.SerializeAsString();
  struct Case {
    google::protobuf::Any any;
    std::string expected;
  };
  google::protobuf::Any wrong_type = envelope("a/b", kVsType, good);
  wrong_type.set_type_url(kVsType);
  google::protobuf::Any garbage;
  garbage.set_type_url(std::string(mcp::kResourceTypeUrl));
  garbage.set_value("\xff\xff\xff");
  google::protobuf::Any no_body;
  no_body.set_type_url(std::string(mcp::kResourceTypeUrl));
  istio::mcp::v1alpha1::Resource nb;
  nb.mutable_metadata()->set_name("default/x");
  no_body.set_value(nb.SerializeAsString());
  std::vector<Case> cases = {
      {wrong_type, "expected type.googleapis.com/istio.mcp.v1alpha1.Resource"},
      {garbage, "unparsable istio.mcp.v1alpha1.Resource"},
      {no_body, "default/x: no body"},
      {envelope("reviews", kVsType, good), "must be \"namespace/name\""},
      {envelope("a/b/c", kVsType, good), "must be \"namespace/name\""},
      {envelope("/b", kVsType, good), "must be \"namespace/name\""},
      {envelope("", kVsType, good), "(no name)"},
      {envelope("Bad_NS/x", kVsType, good), "not a DNS-1123 label"},
      {envelope("ns/x_y", kVsType, good), "not a DNS-1123 subdomain"},
      {envelope("ns/x", "type.googleapis.com/istio.networking.v1alpha3.Gateway", good), "expected " + kVsType},
      {envelope("ns/x", kVsType, "\x0a\xff"), "unparsable istio.networking.v1alpha3.VirtualService"},
  };
  for (const auto& c : cases) {
    std::string error;
    BOOST_TEST(!mcp::unpack(c.any, vs, error));
    BOOST_TEST(contains(error, c.expected), error << " (expected " << c.expected << ")");
  }
  std::string error;
  BOOST_TEST(!mcp::unpack(envelope("a/b", "type.googleapis.com/istio.authentication.v1alpha1.Policy", ""),
                          *schemaOf("authentication.istio.io/v1alpha1", "MeshPolicy"), error));
  BOOST_TEST(contains(error, "plain name"), error);
}

BOOST_AUTO_TEST_SUITE_END()
