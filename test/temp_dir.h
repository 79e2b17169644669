// A temporary folder for one test, removed with everything in it when the test ends.
#pragma once
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace monomesh::testing {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/monomesh-test.XXXXXX";
    char* made = mkdtemp(tmpl);
    BOOST_REQUIRE_MESSAGE(made != nullptr, "mkdtemp failed");
    path = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;

  std::string file(const std::string& rel) const { return path + "/" + rel; }

  // Writes `content` to `rel` (creating folders); returns the file's path.
  std::string write(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(file(rel)).parent_path());
    std::ofstream out(file(rel), std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << file(rel));
    return file(rel);
  }

  void remove(const std::string& rel) const { std::filesystem::remove(file(rel)); }
};

inline std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace monomesh::testing
