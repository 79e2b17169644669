// diffResources and canonicalBytes: which named xDS resources a state-of-the-world response adds,
// updates, keeps and removes; equal messages (maps included) give equal bytes.
#include <boost/test/unit_test.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "proxy/config/resource_diff.h"
#include "proxy_test_util.h"

using namespace monomesh::proxy;
using monomesh::proxy::testing::fromYaml;
namespace cv3 = envoy::config::cluster::v3;

BOOST_AUTO_TEST_SUITE(resource_diff)

BOOST_AUTO_TEST_CASE(added_updated_unchanged_removed) {
  std::map<std::string, std::string> current{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  std::map<std::string, std::string> next{{"b", "2"}, {"c", "33"}, {"d", "4"}};
  auto diff = diffResources(current, next);
  BOOST_TEST(diff.added == std::vector<std::string>{"d"});
  BOOST_TEST(diff.updated == std::vector<std::string>{"c"});
  BOOST_TEST(diff.unchanged == std::vector<std::string>{"b"});
  BOOST_TEST(diff.removed == std::vector<std::string>{"a"});
  BOOST_TEST(diff.changes());
}

BOOST_AUTO_TEST_CASE(the_same_set_changes_nothing) {
  std::map<std::string, std::string> set{{"a", "1"}, {"b", "2"}};
  auto diff = diffResources(set, set);
  BOOST_TEST(!diff.changes());
  BOOST_TEST(diff.unchanged.size() == 2u);
  BOOST_TEST(!diffResources({}, {}).changes());
  auto all_gone = diffResources(set, {});
  BOOST_TEST(all_gone.removed.size() == 2u);
}

BOOST_AUTO_TEST_CASE(canonical_bytes_do_not_depend_on_map_order) {
  // Struct fields are a protobuf map: two equal messages built in different orders.
  const char* a = "name: c\nmetadata: {filter_metadata: {istio: {one: 1, two: 2, three: 3, four: 4}}}\n";
  const char* b = "name: c\nmetadata: {filter_metadata: {istio: {four: 4, three: 3, two: 2, one: 1}}}\n";
  auto ca = fromYaml<cv3::Cluster>(a);
  auto cb = fromYaml<cv3::Cluster>(b);
  BOOST_TEST(canonicalBytes(ca) == canonicalBytes(cb));
  cb.set_name("other");
  BOOST_TEST(canonicalBytes(ca) != canonicalBytes(cb));
}

BOOST_AUTO_TEST_SUITE_END()
