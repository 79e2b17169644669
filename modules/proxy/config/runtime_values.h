// Envoy's layered runtime: key/value overrides read from the bootstrap's static layers, disk
// layers (a folder whose file paths are the keys) and the admin layer (/runtime_modify), later
// layers winning. Filters consult it for their runtime keys (fault.http.abort.abort_percent...).
// Immutable once built; a change builds a new one and publishes it to the workers.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace monomesh::proxy {

struct RuntimeValues {
  std::map<std::string, std::string, std::less<>> values;
  std::optional<uint64_t> integer(std::string_view key) const;
};

// Reads every layer; a disk layer whose folder does not exist contributes nothing (as Envoy).
// `admin` holds the values set through the admin layer and is applied where that layer sits.
std::shared_ptr<const RuntimeValues> loadRuntime(const envoy::config::bootstrap::v3::LayeredRuntime& layers,
                                                 const std::map<std::string, std::string>& admin);

}  // namespace monomesh::proxy
