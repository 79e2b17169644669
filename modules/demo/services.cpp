// Routing helpers every service uses, the choice of service for an instance, and the two
// services that call nothing (details, ratings).
#include "demo/catalog.h"
#include "demo/services.h"

namespace monomesh::demo {

namespace http = boost::beast::http;

std::optional<Response> rejectMethod(const Request& request, bool post_allowed) {
  auto method = request.method();
  if (method == http::verb::get || method == http::verb::head || (post_allowed && method == http::verb::post))
    return std::nullopt;
  Response res = makeResponse(405, "text/plain; charset=utf-8", "method not allowed\n");
  res.set(http::field::allow, post_allowed ? "POST" : "GET, HEAD");
  return res;
}

std::variant<long, Response> routeById(const Request& request, std::string_view prefix, std::string_view display) {
  std::string_view path = targetPath(request.target());
  if (path == "/health") {
    if (auto rejected = rejectMethod(request)) return std::move(*rejected);
    return jsonResponse(200, "{\"status\":" + jsonString(std::string(display) + " is healthy") + "}");
  }
  if (path.substr(0, prefix.size()) != prefix) return jsonResponse(404, errorJson("not found"));
  if (auto rejected = rejectMethod(request)) return std::move(*rejected);
  auto id = parseProductId(path.substr(prefix.size()));
  if (!id) return jsonResponse(400, errorJson("please provide numeric product ID"));
  return *id;
}

std::shared_ptr<RequestHandler> makeService(const AppInstance& instance, std::shared_ptr<UpstreamClient> client) {
  if (instance.service == "productpage") return std::make_shared<ProductPageService>(instance, std::move(client));
  if (instance.service == "reviews") return std::make_shared<ReviewsService>(instance, std::move(client));
  if (instance.service == "details") return std::make_shared<CatalogService>(instance, "/details/", "Details", detailsJson);
  return std::make_shared<CatalogService>(instance, "/ratings/", "Ratings", ratingsJson);
}

boost::asio::awaitable<Response> CatalogService::handle(Request request) {
  auto route = routeById(request, prefix_, display_);
  if (auto* answer = std::get_if<Response>(&route)) co_return std::move(*answer);
  co_return jsonResponse(200, answer_(std::get<long>(route), instance_.instanceName()));
}

}  // namespace monomesh::demo
