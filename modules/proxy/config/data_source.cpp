#include "proxy/config/data_source.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace monomesh::proxy {
namespace {

std::string sizeText(size_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string checkedSize(std::string value, const std::string& field, size_t max_bytes) {
  if (value.size() > max_bytes) throw std::invalid_argument(field + ": larger than " + sizeText(max_bytes));
  return value;
}

std::string readFile(const std::string& path, const std::string& field, size_t max_bytes) {
  auto cannotRead = [&](int error) {
    return std::invalid_argument(field + ": cannot read " + path + ": " + std::strerror(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw cannotRead(errno);
  std::string content;
  char buffer[8192];
  size_t n = 0;
  // Stops one read past the limit, so a huge file (or /dev/zero) is never slurped whole.
  while (content.size() <= max_bytes && (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
    content.append(buffer, n);
  if (std::ferror(file.get())) throw cannotRead(errno);
  if (content.size() > max_bytes) throw std::invalid_argument(field + ": " + path + " is larger than " + sizeText(max_bytes));
  return content;
}

}  // namespace

std::string readDataSource(const envoy::config::core::v3::DataSource& source, const std::string& field,
                           size_t max_bytes) {
  using S = envoy::config::core::v3::DataSource;
  if (source.has_watched_directory())
    throw std::invalid_argument(field + ".watched_directory: not supported yet (files are read once per config load)");
  switch (source.specifier_case()) {
    case S::kFilename: return readFile(source.filename(), field + ".filename", max_bytes);
    case S::kInlineBytes: return checkedSize(source.inline_bytes(), field + ".inline_bytes", max_bytes);
    case S::kInlineString: return checkedSize(source.inline_string(), field + ".inline_string", max_bytes);
    case S::kEnvironmentVariable: {
      const char* value = std::getenv(source.environment_variable().c_str());
      if (value == nullptr)
        throw std::invalid_argument(field + ".environment_variable: " + source.environment_variable() + " is not set");
      return checkedSize(value, field + ".environment_variable", max_bytes);
    }
    default:
      throw std::invalid_argument(field + ": needs one of filename, inline_bytes, inline_string, environment_variable");
  }
}

}  // namespace monomesh::proxy
