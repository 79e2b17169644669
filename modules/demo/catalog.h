// The one book the bookinfo sample sells and what each service knows about it, as the JSON each
// service answers with. Every product id is the same book (bookinfo's services did the same).
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace monomesh::demo {

struct BookReview {
  std::string_view reviewer;
  std::string_view text;
};

inline constexpr std::string_view kBookTitle = "The Comedy of Errors";
inline constexpr std::string_view kBookDescriptionHtml =
    "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia</a>: one of "
    "<b>William Shakespeare's</b> earliest plays, a farce of mistaken identities in which two "
    "sets of identical twins, parted at birth, all turn up in the same town on the same day.";

const std::array<BookReview, 2>& bookReviews();

// A product id in a path: 1 to 9 decimal digits.
std::optional<long> parseProductId(std::string_view text);

// A JSON string literal, quotes included.
std::string jsonString(std::string_view text);

// {"error":"<message>"}
std::string errorJson(std::string_view message);

// productpage's GET /api/v1/products.
std::string productsJson();
// details' GET /details/<id>.
std::string detailsJson(long id, const std::string& instance);
// ratings' GET /ratings/<id>: {"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4},"instance":"ratings-v1"}.
std::string ratingsJson(long id, const std::string& instance);

}  // namespace monomesh::demo
