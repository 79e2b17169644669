// Kubernetes objects as yaml-cpp nodes read as JSON values. The injector works on objects the
// config model does not type (Deployments, Jobs, ...), so it keeps them as parsed YAML; this file
// says what JSON type a scalar is (a quoted scalar is a string, a plain one resolves by YAML 1.2's
// core schema), builds typed scalars, compares values and writes them as JSON.
#pragma once
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace monomesh::galley::injection {

enum class JsonKind { Null, Bool, Number, String, Array, Object };

JsonKind jsonKind(const YAML::Node& node);

// Scalars with a fixed JSON type: text() is always a string ("15001" stays a string), number()
// and boolean() are plain scalars that resolve to their type.
YAML::Node text(std::string_view value);
YAML::Node number(long long value);
YAML::Node boolean(bool value);
YAML::Node emptyObject();
YAML::Node emptyArray();

// object[key] when `object` is a map holding `key`; otherwise an undefined node. Safe on any
// node: yaml-cpp's own const operator[] returns a node that throws when asked its type, and
// throws outright on a scalar.
YAML::Node member(const YAML::Node& object, const std::string& key);

// A scalar's text (string, number or boolean); "" for null and collections.
std::string stringValue(const YAML::Node& node);

// Same JSON value (kinds and contents; object key order does not matter).
bool jsonEqual(const YAML::Node& a, const YAML::Node& b);

// Compact JSON text (keys in insertion order).
std::string toJson(const YAML::Node& node);
void appendJson(std::string& out, const YAML::Node& node);

// How Kubernetes' JSON carries byte fields ([]byte: a webhook's caBundle, an admission patch):
// standard base64 with padding.
std::string base64Bytes(std::string_view data);

// YAML 1.2 core-schema resolution of a plain scalar's text.
JsonKind resolvePlain(std::string_view text);

}  // namespace monomesh::galley::injection
