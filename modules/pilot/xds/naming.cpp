#include "pilot/xds/naming.h"

#include <charconv>

namespace monomesh::pilot::xds {

std::string clusterName(Direction direction, uint32_t port, std::string_view subset, std::string_view host) {
  std::string out = direction == Direction::Inbound ? "inbound|" : "outbound|";
  out += std::to_string(port);
  out += '|';
  out += subset;
  out += '|';
  out += host;
  return out;
}

std::string sniClusterName(uint32_t port, std::string_view subset, std::string_view host) {
  std::string out = "outbound_." + std::to_string(port) + "_.";
  out.append(subset).append("_.").append(host);
  return out;
}

std::optional<ClusterKey> parseClusterName(std::string_view name) {
  ClusterKey key;
  auto take = [&name]() {
    auto bar = name.find('|');
    auto part = name.substr(0, bar);
    name = bar == std::string_view::npos ? std::string_view() : name.substr(bar + 1);
    return part;
  };
  auto direction = take();
  if (direction == "inbound") key.direction = Direction::Inbound;
  else if (direction != "outbound") return std::nullopt;
  auto port = take();
  if (std::from_chars(port.data(), port.data() + port.size(), key.port).ec != std::errc() || key.port == 0) return std::nullopt;
  key.subset = std::string(take());
  if (name.empty() || name.find('|') != std::string_view::npos) return std::nullopt;
  key.host = std::string(name);
  return key;
}

}  // namespace monomesh::pilot::xds
