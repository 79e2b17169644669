#include "config/validation/field_path.h"

namespace monomesh::config::validation {

void FieldPath::append(std::string& out) const {
  if (parent_ != nullptr) parent_->append(out);
  switch (step_) {
    case Step::Field:
      if (!out.empty()) out += '.';
      out += name_;
      break;
    case Step::Index:
      out += '[';
      out += std::to_string(index_);
      out += ']';
      break;
    case Step::Key:
      out += "[\"";
      out += name_;
      out += "\"]";
      break;
  }
}

std::string FieldPath::str() const {
  std::string out;
  append(out);
  return out;
}

}  // namespace monomesh::config::validation
