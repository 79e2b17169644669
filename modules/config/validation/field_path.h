// The path of the field being validated ("spec.http[0].route[1].weight"), built on the stack
// as validation walks a message and turned into text only when something is reported, so a
// valid resource costs no string work.
//
// A FieldPath refers to its parent, so children are made only from named paths (lvalues):
// `(path / "a")[0]` does not compile, because stored in a variable it would outlive its parent.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace monomesh::config::validation {

class FieldPath {
 public:
  explicit FieldPath(std::string_view root) : name_(root) {}

  // Child field, by its JSON name: path / "http".
  FieldPath operator/(std::string_view field) const& { return FieldPath(this, Step::Field, field, 0); }
  // List item: path[2].
  FieldPath operator[](size_t index) const& { return FieldPath(this, Step::Index, {}, index); }
  // Map entry: path.key("version") renders as labels["version"].
  FieldPath key(std::string_view key) const& { return FieldPath(this, Step::Key, key, 0); }
  FieldPath operator/(std::string_view) const&& = delete;
  FieldPath operator[](size_t) const&& = delete;
  FieldPath key(std::string_view) const&& = delete;

  std::string str() const;

 private:
  enum class Step { Field, Index, Key };
  FieldPath(const FieldPath* parent, Step step, std::string_view name, size_t index)
      : parent_(parent), step_(step), name_(name), index_(index) {}
  void append(std::string& out) const;

  const FieldPath* parent_ = nullptr;
  Step step_ = Step::Field;
  std::string_view name_;
  size_t index_ = 0;
};

}  // namespace monomesh::config::validation
