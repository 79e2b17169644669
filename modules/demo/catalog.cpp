#include "demo/catalog.h"

#include "observe/json_text.h"

namespace monomesh::demo {

std::string jsonString(std::string_view text) { return "\"" + observe::jsonEscape(text) + "\""; }

const std::array<BookReview, 2>& bookReviews() {
  static const std::array<BookReview, 2> reviews = {{
      {"Reviewer1", "Two pairs of twins and one long day in Ephesus: the confusion builds so fast that "
                    "the laughter never stops."},
      {"Reviewer2", "Light and quick, a fine evening out, though it has less to say than the later "
                    "comedies."},
  }};
  return reviews;
}

std::optional<long> parseProductId(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  long id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

std::string errorJson(std::string_view message) { return "{\"error\":" + jsonString(message) + "}"; }

std::string productsJson() {
  return "[{\"id\":0,\"title\":" + jsonString(kBookTitle) + ",\"descriptionHtml\":" +
         jsonString(kBookDescriptionHtml) + "}]";
}

std::string detailsJson(long id, const std::string& instance) {
  return "{\"id\":" + std::to_string(id) +
         ",\"author\":\"William Shakespeare\",\"year\":1595,\"type\":\"paperback\",\"pages\":200,"
         "\"publisher\":\"PublisherA\",\"language\":\"English\",\"ISBN-10\":\"1234567890\","
         "\"ISBN-13\":\"123-1234567890\",\"instance\":" +
         jsonString(instance) + "}";
}

std::string ratingsJson(long id, const std::string& instance) {
  return "{\"id\":" + std::to_string(id) + ",\"ratings\":{\"Reviewer1\":5,\"Reviewer2\":4},\"instance\":" +
         jsonString(instance) + "}";
}

}  // namespace monomesh::demo
