// The four bookinfo services, each a RequestHandler: productpage (HTML and the /api/v1 JSON),
// reviews (v1 without ratings, v2 black stars, v3 red stars), and details and ratings. Which one an
// instance plays is AppInstance::service; makeService picks it.
#pragma once
#include <memory>
#include <string_view>
#include <variant>

#include "demo/app_instance.h"
#include "demo/http_server.h"
#include "demo/upstream_client.h"

namespace monomesh::demo {

// The handler for instance.service (validateInstance must have accepted the instance).
std::shared_ptr<RequestHandler> makeService(const AppInstance& instance, std::shared_ptr<UpstreamClient> client);

// Routing shared by the JSON services: GET or HEAD only (else 405), `/health` answers
// {"status":"<display> is healthy"}, `<prefix><id>` yields the id (a bad id is 400), anything
// else is 404.
std::variant<long, Response> routeById(const Request& request, std::string_view prefix, std::string_view display);

// 405 with Allow unless the method is GET or HEAD (or POST when post_allowed).
std::optional<Response> rejectMethod(const Request& request, bool post_allowed = false);

// details and ratings: they call nothing and answer `<prefix><id>` from the catalog.
class CatalogService final : public RequestHandler {
 public:
  using Answer = std::string (*)(long id, const std::string& instance);
  CatalogService(AppInstance instance, std::string_view prefix, std::string_view display, Answer answer)
      : instance_(std::move(instance)), prefix_(prefix), display_(display), answer_(answer) {}
  boost::asio::awaitable<Response> handle(Request request) override;

 private:
  AppInstance instance_;
  std::string prefix_, display_;
  Answer answer_;
};

class ReviewsService final : public RequestHandler {
 public:
  ReviewsService(AppInstance instance, std::shared_ptr<UpstreamClient> client);
  boost::asio::awaitable<Response> handle(Request request) override;

 private:
  AppInstance instance_;
  std::shared_ptr<UpstreamClient> client_;
  Upstream ratings_;
};

class ProductPageService final : public RequestHandler {
 public:
  ProductPageService(AppInstance instance, std::shared_ptr<UpstreamClient> client);
  boost::asio::awaitable<Response> handle(Request request) override;

 private:
  boost::asio::awaitable<Response> productPage(Request request);
  boost::asio::awaitable<Response> productApi(Request request);
  Response login(const Request& request) const;
  // tracing headers plus the signed-in user
  HeaderList forwardHeaders(const Request& request) const;

  AppInstance instance_;
  std::shared_ptr<UpstreamClient> client_;
  Upstream details_, reviews_;
  std::optional<Upstream> ratings_;
};

}  // namespace monomesh::demo
