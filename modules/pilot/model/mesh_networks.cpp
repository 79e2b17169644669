#include "pilot/model/mesh_networks.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "config/field_locator.h"
#include "config/mesh_config.h"
#include "config/validation/addresses.h"
#include "config/validation/hosts.h"

namespace monomesh::pilot {

namespace mesh = istio::mesh::v1alpha1;
namespace validation = config::validation;

namespace {

std::optional<uint32_t> parseIPv4(std::string_view text) {
  in_addr address{};
  if (inet_pton(AF_INET, std::string(text).c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The checks Istio 1.1 ran on MeshNetworks, plus two it left to chance: a registry or a CIDR
// claimed by two networks (1.1 took whichever its map iteration met first) is an error here.
class Checker {
 public:
  void network(const std::string& name, const mesh::Network& network) {
    std::string at = "networks[\"" + name + "\"]";
    if (name.empty()) fail(at, "a network needs a name");
    for (int i = 0; i < network.endpoints_size(); ++i)
      endpoints(name, at + ".endpoints[" + std::to_string(i) + "]", network.endpoints(i));
    for (int i = 0; i < network.gateways_size(); ++i)
      gateway(at + ".gateways[" + std::to_string(i) + "]", network.gateways(i));
  }

  // Found errors: (path, message), placed by the caller.
  std::vector<std::pair<std::string, std::string>> found;

 private:
  void fail(std::string path, std::string message) { found.emplace_back(std::move(path), std::move(message)); }

  void endpoints(const std::string& network, const std::string& at, const mesh::Network::NetworkEndpoints& e) {
    switch (e.ne_case()) {
      case mesh::Network::NetworkEndpoints::kFromCidr:
        if (auto why = validation::ipv4SubnetError(e.from_cidr()); !why.empty()) fail(at + ".fromCidr", why);
        else claim(cidrs_, e.from_cidr(), network, at + ".fromCidr", "CIDR block");
        break;
      case mesh::Network::NetworkEndpoints::kFromRegistry:
        if (e.from_registry().empty()) fail(at + ".fromRegistry", "must name a registry (a cluster ID, e.g. Kubernetes)");
        else claim(registries_, e.from_registry(), network, at + ".fromRegistry", "registry");
        break;
      default:
        fail(at, "set fromCidr or fromRegistry");
    }
  }

  void gateway(const std::string& at, const mesh::Network::IstioNetworkGateway& g) {
    switch (g.gw_case()) {
      case mesh::Network::IstioNetworkGateway::kAddress:
        if (auto why = validation::ipv4AddressError(g.address()); !why.empty())
          fail(at + ".address", why + " (gateway addresses are not resolved; give an IP)");
        break;
      case mesh::Network::IstioNetworkGateway::kRegistryServiceName:
        if (auto why = validation::fqdnError(g.registry_service_name()); !why.empty())
          fail(at + ".registryServiceName", why);
        break;
      default:
        fail(at, "set address or registryServiceName");
    }
    if (auto why = validation::portError(g.port()); !why.empty()) fail(at + ".port", why);
  }

  void claim(std::map<std::string, std::string>& owners, const std::string& what, const std::string& network,
             const std::string& at, const char* kind) {
    auto [it, fresh] = owners.try_emplace(what, network);
    if (!fresh && it->second != network)
      fail(at, std::string(kind) + " " + quoted(what) + " already belongs to network " + quoted(it->second) +
                   "; an endpoint is on one network");
  }

  std::map<std::string, std::string> cidrs_, registries_;
};

}  // namespace

std::optional<MeshNetworks> MeshNetworks::parse(const std::string& text, const std::string& file,
                                                config::ConfigErrors& errors) {
  mesh::MeshNetworks proto;
  errors = config::readMeshNetworks(text, file, proto);
  if (!errors.empty()) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& [name, network] : proto.networks()) names.push_back(name);
  std::sort(names.begin(), names.end());  // the proto map's order is unspecified

  Checker checker;
  for (const auto& name : names) checker.network(name, proto.networks().at(name));
  if (!checker.found.empty()) {
    // Only now is the text parsed again, to place each error on its line.
    YAML::Node root = YAML::Load(text);
    config::SourcePosition top{file, 1, 1};
    for (auto& [path, message] : checker.found)
      errors.push_back(config::ConfigError{config::locateField(root, path, file, top), "", path, message});
    return std::nullopt;
  }

  MeshNetworks out;
  for (const auto& name : names) {
    const auto& network = proto.networks().at(name);
    auto& gateways = out.networks_[name];
    for (const auto& g : network.gateways())
      gateways.push_back(NetworkGateway{g.address(), g.registry_service_name(), g.port()});
    for (const auto& e : network.endpoints()) {
      if (e.ne_case() == mesh::Network::NetworkEndpoints::kFromRegistry) {
        out.registries_.try_emplace(e.from_registry(), name);
        continue;
      }
      std::string_view cidr = e.from_cidr();
      Cidr c;
      c.network = name;
      auto slash = cidr.find('/');
      c.prefix = 32;
      if (slash != std::string_view::npos) std::from_chars(cidr.data() + slash + 1, cidr.data() + cidr.size(), c.prefix);
      c.mask = c.prefix == 0 ? 0 : ~uint32_t(0) << (32 - c.prefix);
      c.address = parseIPv4(cidr.substr(0, slash)).value_or(0) & c.mask;
      out.cidrs_.push_back(std::move(c));
    }
  }
  // The most specific block decides (blocks of one length never overlap: the same block twice is
  // an error), so the answer never depends on the file's order.
  std::stable_sort(out.cidrs_.begin(), out.cidrs_.end(), [](const Cidr& a, const Cidr& b) { return a.prefix > b.prefix; });
  return out;
}

std::optional<MeshNetworks> MeshNetworks::load(const std::string& path, config::ConfigErrors& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors = {config::ConfigError{config::SourcePosition{path, 0, 0}, "", "", "cannot read the mesh networks file"}};
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, errors);
}

std::vector<std::string> MeshNetworks::names() const {
  std::vector<std::string> out;
  for (const auto& [name, gateways] : networks_) out.push_back(name);
  return out;
}

std::string MeshNetworks::networkOf(std::string_view cluster_id, std::string_view ip) const {
  if (auto it = registries_.find(cluster_id); it != registries_.end()) return it->second;
  if (cidrs_.empty()) return {};
  auto address = parseIPv4(ip);
  if (!address) return {};  // a host name (DNS endpoints) or IPv6: in no block
  for (const auto& c : cidrs_)
    if ((*address & c.mask) == c.address) return c.network;
  return {};
}

const std::vector<NetworkGateway>* MeshNetworks::gateways(std::string_view network) const {
  auto it = networks_.find(network);
  return it == networks_.end() ? nullptr : &it->second;
}

}  // namespace monomesh::pilot
