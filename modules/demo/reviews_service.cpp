// reviews: two reviews of the book. v1 calls nothing; v2 and v3 ask ratings for the stars and
// colour them (black, red). When ratings fails or is too slow (10 s in v2, 2.5 s in v3, as
// bookinfo's reviews waited) the reviews still come back, each rating replaced by an error note.
#include "demo/catalog.h"
#include "demo/forwarded_headers.h"
#include "demo/json_object.h"
#include "demo/services.h"
#include "observe/log.h"

namespace monomesh::demo {

namespace {

constexpr std::string_view kRatingsUnavailable = "Ratings service is currently unavailable";

struct RatingsAnswer {
  std::optional<JsonObject> ratings;  // reviewer -> stars
  std::string instance;               // which ratings instance answered
  std::string error;                  // why there are no ratings
};

RatingsAnswer readRatings(const UpstreamReply& reply) {
  RatingsAnswer out;
  if (!reply.ok()) {
    out.error = reply.status ? "ratings answered " + std::to_string(reply.status) : reply.error;
    return out;
  }
  auto object = parseJsonObject(reply.body);
  const JsonObject* ratings = object ? objectField(*object, "ratings") : nullptr;
  if (!ratings) {
    out.error = "ratings answered without a ratings object";
    return out;
  }
  out.ratings = *ratings;
  out.instance = stringField(*object, "instance").value_or("");
  return out;
}

std::string ratingJson(const RatingsAnswer& answer, std::string_view reviewer, std::string_view color) {
  std::optional<double> stars;
  if (answer.ratings) stars = numberField(*answer.ratings, std::string(reviewer));
  if (!stars || *stars < 0 || *stars > 5) return "{\"error\":" + jsonString(kRatingsUnavailable) + "}";
  return "{\"stars\":" + std::to_string(static_cast<int>(*stars)) + ",\"color\":" + jsonString(color) + "}";
}

}  // namespace

ReviewsService::ReviewsService(AppInstance instance, std::shared_ptr<UpstreamClient> client)
    : instance_(std::move(instance)), client_(std::move(client)), ratings_(effectiveUpstream(instance_, "ratings")) {}

boost::asio::awaitable<Response> ReviewsService::handle(Request request) {
  auto route = routeById(request, "/reviews/", "Reviews");
  if (auto* answer = std::get_if<Response>(&route)) co_return std::move(*answer);
  const long id = std::get<long>(route);
  const bool with_ratings = instance_.version != "v1";
  RatingsAnswer ratings;
  if (with_ratings) {
    HeaderList headers = tracingHeaders(request);
    addEndUser(headers, endUser(request));
    UpstreamReply reply = co_await client_->get(ratings_, "/ratings/" + std::to_string(id), std::move(headers));
    ratings = readRatings(reply);
    if (!ratings.error.empty())
      observe::logScope("demo").warn("{}: no ratings for product {}: {}", instance_.instanceName(), id, ratings.error);
  }
  const std::string_view color = instance_.version == "v3" ? "red" : "black";
  std::string body = "{\"id\":" + jsonString(std::to_string(id)) +
                     ",\"reviewsVersion\":" + jsonString(instance_.service + "-" + instance_.version) +
                     ",\"instance\":" + jsonString(instance_.instanceName());
  if (with_ratings) {
    body += ratings.error.empty() ? ",\"ratingsInstance\":" + jsonString(ratings.instance)
                                  : ",\"ratingsError\":" + jsonString(ratings.error);
  }
  body += ",\"reviews\":[";
  bool first = true;
  for (const auto& review : bookReviews()) {
    if (!first) body += ",";
    first = false;
    body += "{\"reviewer\":" + jsonString(review.reviewer) + ",\"text\":" + jsonString(review.text);
    if (with_ratings) body += ",\"rating\":" + ratingJson(ratings, review.reviewer, color);
    body += "}";
  }
  body += "]}";
  co_return jsonResponse(200, body);
}

}  // namespace monomesh::demo
