// The HTML productpage serves: the landing page and the product page, built from the JSON that
// details and reviews answered. The page names which reviews and ratings instances answered and
// prints each rating's colour as plain text, so a person (or a test) sees where traffic went.
#pragma once
#include <string>
#include <string_view>

#include "demo/json_object.h"

namespace monomesh::demo {

inline constexpr std::string_view kDetailsUnavailable = "Sorry, product details are currently unavailable for this book.";
inline constexpr std::string_view kReviewsUnavailable = "Sorry, product reviews are currently unavailable for this book.";

struct ProductPageView {
  std::string user;                     // signed-in user; empty when nobody is
  const JsonObject* details = nullptr;  // nullptr: details failed
  const JsonObject* reviews = nullptr;  // nullptr: reviews failed
};

std::string htmlEscape(std::string_view text);
std::string renderLandingPage();
std::string renderProductPage(const ProductPageView& view);

}  // namespace monomesh::demo
