// Envoy's DataSource (a file, inline bytes or text, or an environment variable) read into memory
// once per config load, for certificates, keys and direct response bodies.
#pragma once
#include <cstddef>
#include <string>

#include "envoy/config/core/v3/base.pb.h"

namespace monomesh::proxy {

// Throws std::invalid_argument("<field>.<subfield>: <problem>"): an unreadable file (naming its
// path and the system's reason), content over `max_bytes`, an unset environment variable, no
// source at all, or watched_directory (files are not watched; a new config load re-reads them).
// Relative file names are relative to the working directory, as in Envoy.
std::string readDataSource(const envoy::config::core::v3::DataSource& source, const std::string& field,
                           size_t max_bytes);

}  // namespace monomesh::proxy
