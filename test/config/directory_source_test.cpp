// DirectorySource: a folder of YAML files followed with inotify, applied to a Store.
// Every wait is bounded (5 s); the temporary folder is removed after each test.
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "config/directory_source.h"
#include "config_test_util.h"
#include "istio/networking/v1alpha3/virtual_service.pb.h"

namespace fs = std::filesystem;
namespace net = istio::networking::v1alpha3;
using namespace monomesh::config;
using namespace std::chrono_literals;
using monomesh::config::testing::contains;
using monomesh::config::testing::joinErrors;
using monomesh::config::testing::schemaOf;

namespace {

using monomesh::testing::TempDir;

const Schema* vsKind() { return schemaOf("networking.istio.io/v1alpha3", "VirtualService"); }

std::string virtualService(const std::string& name, const std::string& host) {
  return "apiVersion: networking.istio.io/v1alpha3\n"
         "kind: VirtualService\n"
         "metadata:\n"
         "  name: " + name + "\n"
         "spec:\n"
         "  hosts: [" + host + "]\n"
         "  tcp: [{route: [{destination: {host: " + host + "}}]}]\n";
}


struct SourceFixture {
  boost::asio::io_context context;
  Store store;
  TempDir dir;
  std::unique_ptr<DirectorySource> source;
  int rescans = 0;

  ~SourceFixture() { source.reset(); }  // before the io_context and the folder go away

  void start() {
    DirectorySourceOptions options;
    options.debounce = 20ms;
    source = std::make_unique<DirectorySource>(context, store, dir.path, options);
    source->on_rescan = [this](const std::map<std::string, ConfigErrors>&) { ++rescans; };
    auto error = source->start();
    BOOST_REQUIRE_MESSAGE(!error, "start: " << error.value_or(""));
  }

  // Runs the io_context until `done` holds, for at most 5 s.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      context.run_for(10ms);
      if (context.stopped()) context.restart();
    }
    return true;
  }

  // Lets pending notifications and the debounce run out (bounded).
  void settle(std::chrono::milliseconds quiet = 200ms) { runUntil([] { return false; }, quiet); }

  ResourcePtr vs(const std::string& name, const std::string& ns = "default") const {
    return store.snapshot()->get(vsKind(), ns, name);
  }
  std::string allErrors() const {
    std::string out;
    for (const auto& [file, errors] : source->fileErrors()) out += joinErrors(errors);
    return out;
  }
  std::string hostOf(const std::string& name) const {
    auto r = vs(name);
    return r ? r->as<net::VirtualService>().hosts(0) : "<absent>";
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(directory_source, SourceFixture)

BOOST_AUTO_TEST_CASE(start_on_a_missing_folder_returns_an_error) {
  DirectorySource missing(context, store, dir.path + "/does-not-exist");
  auto error = missing.start();
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(contains(*error, "does not exist"), *error);
  BOOST_TEST(contains(*error, dir.path + "/does-not-exist"), *error);
  BOOST_TEST(store.version() == 0u);
}

BOOST_AUTO_TEST_CASE(start_on_a_file_returns_an_error) {
  dir.write("plain.yaml", virtualService("a", "a"));
  DirectorySource not_a_folder(context, store, dir.file("plain.yaml"));
  BOOST_TEST(not_a_folder.start().has_value());
}

BOOST_AUTO_TEST_CASE(initial_load) {
  dir.write("a.yaml", virtualService("a", "host-a"));
  dir.write("b.yml", virtualService("b", "host-b") + "---\n" + virtualService("c", "host-c"));
  start();
  BOOST_TEST(store.version() == 1u);
  BOOST_TEST(store.snapshot()->size() == 3u);
  BOOST_TEST(hostOf("a") == "host-a");
  BOOST_TEST(hostOf("c") == "host-c");
  BOOST_TEST(source->fileCount() == 2u);
  BOOST_TEST(source->fileErrors().empty());
  BOOST_TEST(vs("a")->origin.file == dir.file("a.yaml"));
}

BOOST_AUTO_TEST_CASE(empty_folder_starts_with_nothing) {
  start();
  BOOST_TEST(store.snapshot()->size() == 0u);
  BOOST_TEST(source->fileCount() == 0u);
}

BOOST_AUTO_TEST_CASE(added_file_appears_after_the_debounce) {
  start();
  int rescans_before = rescans;
  dir.write("new.yaml", virtualService("fresh", "h"));
  BOOST_TEST(vs("fresh") == nullptr);  // nothing happens until the context runs
  BOOST_TEST_REQUIRE(runUntil([&] { return vs("fresh") != nullptr; }));
  BOOST_TEST(source->fileCount() == 1u);
  BOOST_TEST(rescans > rescans_before);  // on_rescan saw the change
}

BOOST_AUTO_TEST_CASE(modified_file_updates_the_resource) {
  dir.write("a.yaml", virtualService("a", "before"));
  start();
  uint64_t v = store.version();
  dir.write("a.yaml", virtualService("a", "after"));
  BOOST_TEST_REQUIRE(runUntil([&] { return hostOf("a") == "after"; }));
  BOOST_TEST(store.version() > v);
}

BOOST_AUTO_TEST_CASE(deleted_file_removes_its_resources) {
  dir.write("a.yaml", virtualService("a", "h") + "---\n" + virtualService("b", "h"));
  dir.write("keep.yaml", virtualService("keep", "h"));
  start();
  BOOST_TEST_REQUIRE(store.snapshot()->size() == 3u);
  dir.remove("a.yaml");
  BOOST_TEST_REQUIRE(runUntil([&] { return store.snapshot()->size() == 1u; }));
  BOOST_TEST(vs("a") == nullptr);
  BOOST_TEST(vs("b") == nullptr);
  BOOST_TEST(vs("keep") != nullptr);
  BOOST_TEST(source->fileCount() == 1u);
}

BOOST_AUTO_TEST_CASE(object_removed_from_a_file_is_deleted) {
  dir.write("a.yaml", virtualService("a", "h") + "---\n" + virtualService("b", "h"));
  start();
  dir.write("a.yaml", virtualService("a", "h"));
  BOOST_TEST_REQUIRE(runUntil([&] { return vs("b") == nullptr; }));
  BOOST_TEST(vs("a") != nullptr);
}

BOOST_AUTO_TEST_CASE(file_with_an_error_keeps_its_previous_content) {
  dir.write("a.yaml", virtualService("a", "good"));
  start();
  // Line 9, column 14 holds the mistake.
  dir.write("a.yaml", virtualService("a", "bad") + "  http:\n  - timeout: soon\n");
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  auto errors = source->fileErrors();
  BOOST_TEST_REQUIRE(errors.count(dir.file("a.yaml")) == 1u);
  const ConfigErrors& e = errors.at(dir.file("a.yaml"));
  BOOST_TEST_REQUIRE(e.size() == 1u, joinErrors(e));
  BOOST_TEST(e[0].position.file == dir.file("a.yaml"));
  BOOST_TEST(e[0].position.line == 9);
  BOOST_TEST(e[0].path == "spec.http[0].timeout");
  BOOST_TEST(contains(e[0].str(), dir.file("a.yaml") + ":9:14: VirtualService default/a"), e[0].str());
  BOOST_TEST(hostOf("a") == "good");
}

// Istio 1.1's semantic rules reject a file like a schema error: the previous content stays.
BOOST_AUTO_TEST_CASE(file_failing_semantic_validation_keeps_its_previous_content) {
  dir.write("a.yaml", virtualService("a", "good") + "---\n" + virtualService("b", "other"));
  start();
  uint64_t version = store.version();
  // b stays valid; a's two weighted destinations sum to 90 (line 9 holds the route list).
  dir.write("a.yaml", virtualService("a", "changed") + "  http:\n  - route:\n    - destination: {host: x}\n      weight: 40\n"
                      "    - destination: {host: y}\n      weight: 50\n---\n" + virtualService("b", "changed"));
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  auto errors = source->fileErrors();
  const ConfigErrors& e = errors.at(dir.file("a.yaml"));
  BOOST_TEST_REQUIRE(e.size() == 1u, joinErrors(e));
  BOOST_TEST(e[0].path == "spec.http[0].route");
  BOOST_TEST(e[0].str() == dir.file("a.yaml") + ":9:5: VirtualService default/a: spec.http[0].route: "
                                                "weights sum to 90, must be 100");
  BOOST_TEST(hostOf("a") == "good");
  BOOST_TEST(hostOf("b") == "other");  // the file is rejected whole
  BOOST_TEST(store.version() == version);
  dir.write("a.yaml", virtualService("a", "fixed"));
  BOOST_TEST_REQUIRE(runUntil([&] { return source->fileErrors().empty(); }));
  BOOST_TEST(hostOf("a") == "fixed");
  BOOST_TEST(vs("b") == nullptr);  // no longer defined by the file
}

BOOST_AUTO_TEST_CASE(validation_can_be_switched_off) {
  dir.write("a.yaml", "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: a\n"
                      "spec:\n  hosts: [a]\n");  // no routes: schema-valid, semantically not
  DirectorySourceOptions options;
  BOOST_TEST(options.load.validate);  // on by default
  options.load.validate = false;
  source = std::make_unique<DirectorySource>(context, store, dir.path, options);
  BOOST_TEST_REQUIRE(!source->start().has_value());
  BOOST_TEST(source->fileErrors().empty(), allErrors());
  BOOST_TEST(vs("a") != nullptr);
}

BOOST_AUTO_TEST_CASE(new_file_with_an_error_applies_nothing) {
  start();
  dir.write("broken.yaml", virtualService("ok", "h") + "---\n" + virtualService("Bad", "h"));
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  BOOST_TEST(vs("ok") == nullptr);  // a file is all or nothing
  BOOST_TEST(store.version() == 0u);
}

BOOST_AUTO_TEST_CASE(fixing_the_file_clears_the_error) {
  dir.write("a.yaml", virtualService("a", "good"));
  start();
  dir.write("a.yaml", "apiVersion: networking.istio.io/v1alpha3\nkind: [oops\n");
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  BOOST_TEST(contains(source->fileErrors().begin()->second.at(0).message, "invalid YAML"));
  dir.write("a.yaml", virtualService("a", "fixed"));
  BOOST_TEST_REQUIRE(runUntil([&] { return source->fileErrors().empty(); }));
  BOOST_TEST(hostOf("a") == "fixed");
}

BOOST_AUTO_TEST_CASE(same_object_in_two_files_rejects_the_second) {
  dir.write("a.yaml", virtualService("dup", "from-a"));
  dir.write("b.yaml", virtualService("dup", "from-b") + "---\n" + virtualService("other", "h"));
  start();
  auto errors = source->fileErrors();
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST_REQUIRE(errors.count(dir.file("b.yaml")) == 1u);
  const ConfigErrors& e = errors.at(dir.file("b.yaml"));
  BOOST_TEST_REQUIRE(e.size() == 1u, joinErrors(e));
  BOOST_TEST(e[0].message == "already defined in " + dir.file("a.yaml"));
  BOOST_TEST(e[0].subject == "VirtualService default/dup");
  BOOST_TEST(e[0].position.line == 1);
  BOOST_TEST(hostOf("dup") == "from-a");
  BOOST_TEST(vs("other") == nullptr);  // the whole second file is rejected
}

BOOST_AUTO_TEST_CASE(same_object_added_later_in_another_file_is_rejected) {
  dir.write("b.yaml", virtualService("dup", "from-b"));
  start();
  dir.write("a.yaml", virtualService("dup", "from-a"));  // sorts first, but b owned it first
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  auto errors = source->fileErrors();
  BOOST_TEST_REQUIRE(errors.count(dir.file("a.yaml")) == 1u);
  BOOST_TEST(errors.at(dir.file("a.yaml")).at(0).message == "already defined in " + dir.file("b.yaml"));
  BOOST_TEST(hostOf("dup") == "from-b");
}

BOOST_AUTO_TEST_CASE(same_object_twice_in_one_file_is_rejected) {
  start();
  dir.write("a.yaml", virtualService("dup", "one") + "---\n" + virtualService("dup", "two"));
  BOOST_TEST_REQUIRE(runUntil([&] { return !source->fileErrors().empty(); }));
  BOOST_TEST(source->fileErrors().at(dir.file("a.yaml")).at(0).message == "defined twice in this file");
  BOOST_TEST(vs("dup") == nullptr);
}

BOOST_AUTO_TEST_CASE(object_moved_to_another_file) {
  dir.write("a.yaml", virtualService("moving", "in-a"));
  start();
  dir.write("b.yaml", virtualService("moving", "in-b"));
  dir.write("a.yaml", "");
  BOOST_TEST_REQUIRE(runUntil([&] { return hostOf("moving") == "in-b" && source->fileErrors().empty(); }));
  settle();
  BOOST_TEST(hostOf("moving") == "in-b");
  BOOST_TEST(source->fileErrors().empty());
}

BOOST_AUTO_TEST_CASE(deleting_the_owner_lets_the_rejected_duplicate_in) {
  dir.write("a.yaml", virtualService("dup", "from-a"));
  dir.write("b.yaml", virtualService("dup", "from-b"));
  start();
  BOOST_TEST_REQUIRE(source->fileErrors().size() == 1u);
  dir.remove("a.yaml");
  BOOST_TEST_REQUIRE(runUntil([&] { return hostOf("dup") == "from-b"; }));
  BOOST_TEST(source->fileErrors().empty());
}

// Both files change in one rescan: a.yaml starts defining "x" (owned so far by b.yaml), and
// b.yaml's new content is rejected. Once b.yaml stops defining "x", a.yaml still does, so "x"
// must stay in the store.
BOOST_AUTO_TEST_CASE(object_claimed_by_two_changed_files_survives_the_losers_fix) {
  dir.write("a.yaml", virtualService("z", "z-host"));
  dir.write("b.yaml", virtualService("x", "x-from-b"));
  start();
  dir.write("a.yaml", virtualService("z", "z-host") + "---\n" + virtualService("x", "x-from-a"));
  dir.write("b.yaml", virtualService("x", "x-from-b") + "---\n" + virtualService("y", "y-host"));
  source->rescan();  // one rescan sees both changes
  BOOST_TEST(source->fileErrors().size() == 1u, "one of the two files must be rejected");
  dir.write("b.yaml", virtualService("y", "y-host"));
  source->rescan();
  settle();
  BOOST_TEST(source->fileErrors().empty(), allErrors());
  BOOST_TEST(vs("y") != nullptr);
  BOOST_TEST(vs("z") != nullptr);
  BOOST_TEST(vs("x") != nullptr, "a.yaml defines x, yet it is missing from the store");
}

BOOST_AUTO_TEST_CASE(subfolders_are_scanned) {
  dir.write("top.yaml", virtualService("top", "h"));
  dir.write("sub/one.yaml", virtualService("one", "h"));
  dir.write("sub/deeper/two.json",
            R"({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",)"
            R"( "metadata": {"name": "two"}, "spec": {"hosts": ["h"], "tcp": [{"route": [{"destination": {"host": "h"}}]}]}})");
  start();
  BOOST_TEST(vs("top") != nullptr);
  BOOST_TEST(vs("one") != nullptr);
  BOOST_TEST(vs("two") != nullptr);
  BOOST_TEST(source->fileCount() == 3u);
}

BOOST_AUTO_TEST_CASE(files_in_a_new_subfolder_are_picked_up) {
  start();
  dir.write("later/sub/x.yaml", virtualService("later", "h"));
  BOOST_TEST_REQUIRE(runUntil([&] { return vs("later") != nullptr; }));
  dir.write("later/sub/x.yaml", virtualService("later", "changed"));
  BOOST_TEST_REQUIRE(runUntil([&] { return hostOf("later") == "changed"; }));
}

BOOST_AUTO_TEST_CASE(hidden_files_and_folders_are_ignored) {
  dir.write(".x.yaml", virtualService("hidden-file", "h"));
  dir.write(".git/config.yaml", virtualService("hidden-dir", "h"));
  dir.write("sub/.swp.yaml", virtualService("hidden-in-sub", "h"));
  dir.write("visible.yaml", virtualService("visible", "h"));
  start();
  BOOST_TEST(vs("visible") != nullptr);
  BOOST_TEST(vs("hidden-file") == nullptr);
  BOOST_TEST(vs("hidden-dir") == nullptr);
  BOOST_TEST(vs("hidden-in-sub") == nullptr);
  BOOST_TEST(source->fileCount() == 1u);
}

BOOST_AUTO_TEST_CASE(non_yaml_files_are_ignored) {
  dir.write("README.md", "not: [yaml");
  dir.write("notes.txt", virtualService("txt", "h"));
  dir.write("a.yaml.bak", virtualService("bak", "h"));
  dir.write("a.yaml", virtualService("a", "h"));
  start();
  BOOST_TEST(store.snapshot()->size() == 1u);
  BOOST_TEST(source->fileErrors().empty());
  BOOST_TEST(source->fileCount() == 1u);
}

BOOST_AUTO_TEST_CASE(hidden_file_written_later_changes_nothing) {
  dir.write("a.yaml", virtualService("a", "h"));
  start();
  uint64_t v = store.version();
  dir.write(".hidden.yaml", virtualService("hidden", "h"));
  dir.write("marker.yaml", virtualService("marker", "h"));
  BOOST_TEST_REQUIRE(runUntil([&] { return vs("marker") != nullptr; }));
  BOOST_TEST(vs("hidden") == nullptr);
  BOOST_TEST(store.version() == v + 1);
}

BOOST_AUTO_TEST_CASE(stop_ends_watching) {
  dir.write("a.yaml", virtualService("a", "h"));
  start();
  source->stop();
  dir.write("b.yaml", virtualService("b", "h"));
  settle();
  BOOST_TEST(vs("b") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
