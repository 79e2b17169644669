// readDataSource: Envoy's DataSource from a file, inline bytes or text, or an environment
// variable, with errors that name the field, the file and the reason.
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "proxy/config/data_source.h"
#include "proxy_test_util.h"
#include "temp_dir.h"

using envoy::config::core::v3::DataSource;
using monomesh::proxy::readDataSource;
using monomesh::proxy::testing::errorOf;
using monomesh::proxy::testing::fromYaml;
using monomesh::testing::TempDir;

namespace {

std::string read(const std::string& yaml, size_t max_bytes = 1024) {
  return readDataSource(fromYaml<DataSource>(yaml), "body", max_bytes);
}

std::string readError(const std::string& yaml, size_t max_bytes = 1024) {
  return errorOf([&] { read(yaml, max_bytes); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_source)

BOOST_AUTO_TEST_CASE(inline_values_are_used_as_given) {
  BOOST_TEST(read("inline_string: hello") == "hello");
  BOOST_TEST(read("inline_bytes: aGk=") == "hi");  // bytes are base64 in protobuf's JSON mapping
  BOOST_TEST(read("inline_string: \"\"") == "");
}

BOOST_AUTO_TEST_CASE(a_file_is_read_whole) {
  TempDir dir;
  std::string path = dir.write("certs/cert.pem", std::string("line one\nline two\n\0binary", 25));
  BOOST_TEST(read("filename: " + path) == std::string("line one\nline two\n\0binary", 25));
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_is_named_with_the_reason) {
  TempDir dir;
  std::string missing = dir.file("missing.pem");
  BOOST_TEST(readError("filename: " + missing) ==
             "body.filename: cannot read " + missing + ": No such file or directory");
  BOOST_TEST(readError("filename: " + dir.path) ==  // a folder opens but cannot be read
             "body.filename: cannot read " + dir.path + ": Is a directory");
}

BOOST_AUTO_TEST_CASE(content_over_the_limit_is_refused) {
  TempDir dir;
  std::string path = dir.write("big", std::string(2049, 'x'));
  BOOST_TEST(readError("filename: " + path, 2048) == "body.filename: " + path + " is larger than 2 KiB");
  BOOST_TEST(read("filename: " + path, 2049).size() == 2049u);
  BOOST_TEST(readError("inline_string: abc", 2) == "body.inline_string: larger than 2 bytes");
  BOOST_TEST(readError("filename: /dev/zero", 1 << 20) == "body.filename: /dev/zero is larger than 1 MiB");
}

BOOST_AUTO_TEST_CASE(environment_variables_must_be_set) {
  ::setenv("MONOMESH_DATA_SOURCE_TEST", "from the environment", 1);
  BOOST_TEST(read("environment_variable: MONOMESH_DATA_SOURCE_TEST") == "from the environment");
  ::unsetenv("MONOMESH_DATA_SOURCE_TEST");
  BOOST_TEST(readError("environment_variable: MONOMESH_DATA_SOURCE_TEST") ==
             "body.environment_variable: MONOMESH_DATA_SOURCE_TEST is not set");
}

BOOST_AUTO_TEST_CASE(a_source_is_required_and_directories_are_not_watched) {
  BOOST_TEST(readError("{}") == "body: needs one of filename, inline_bytes, inline_string, environment_variable");
  BOOST_TEST(readError("{inline_string: x, watched_directory: {path: /etc/certs}}") ==
             "body.watched_directory: not supported yet (files are read once per config load)");
}

BOOST_AUTO_TEST_SUITE_END()
