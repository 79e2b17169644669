// productpage: the landing page, the product page (details and reviews rendered as HTML, with
// bookinfo's error texts and status 200 when a dependency fails), sign-in by cookie, and the
// /api/v1/products JSON. Calls wait 3 s each and reviews is tried twice, as bookinfo's
// productpage did; tracing headers and the signed-in user go along.
#include "demo/catalog.h"
#include "demo/forwarded_headers.h"
#include "demo/productpage_html.h"
#include "demo/services.h"
#include "observe/log.h"

namespace monomesh::demo {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kRatingsUnavailable = "Sorry, product ratings are currently unavailable for this book.";

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One field of an application/x-www-form-urlencoded body, decoded.
std::optional<std::string> formField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    for (size_t i = 0; i < raw.size(); ++i) {
      bool escaped = raw[i] == '%' && i + 2 < raw.size() && hexDigit(raw[i + 1]) >= 0 && hexDigit(raw[i + 2]) >= 0;
      if (escaped) {
        value += static_cast<char>(hexDigit(raw[i + 1]) * 16 + hexDigit(raw[i + 2]));
        i += 2;
      } else {
        value += raw[i] == '+' ? ' ' : raw[i];
      }
    }
    return value;
  }
  return std::nullopt;
}

Response redirectToProductPage(std::string cookie) {
  Response res = makeResponse(302, kHtml, "<a href=\"/productpage\">/productpage</a>\n");
  res.set(http::field::location, "/productpage");
  res.set(http::field::set_cookie, std::move(cookie));
  return res;
}

// What productpage answers for an API call: the dependency's JSON, or bookinfo's error with
// the dependency's status (500 when there was no answer at all).
Response relay(const UpstreamReply& reply, std::string_view unavailable) {
  if (reply.ok()) return jsonResponse(200, reply.body);
  return jsonResponse(reply.status ? reply.status : 500, errorJson(unavailable));
}

}  // namespace

ProductPageService::ProductPageService(AppInstance instance, std::shared_ptr<UpstreamClient> client)
    : instance_(std::move(instance)),
      client_(std::move(client)),
      details_(effectiveUpstream(instance_, "details")),
      reviews_(effectiveUpstream(instance_, "reviews")) {
  if (instance_.upstreams.count("ratings")) ratings_ = effectiveUpstream(instance_, "ratings");
}

HeaderList ProductPageService::forwardHeaders(const Request& request) const {
  HeaderList headers = tracingHeaders(request);
  addEndUser(headers, userFromCookie(request));
  return headers;
}

boost::asio::awaitable<Response> ProductPageService::handle(Request request) {
  const std::string path(targetPath(request.target()));
  if (path == "/login") {
    if (request.method() != http::verb::post) {
      Response res = makeResponse(405, "text/plain; charset=utf-8", "sign in with POST /login\n");
      res.set(http::field::allow, "POST");
      co_return res;
    }
    co_return login(request);
  }
  if (auto rejected = rejectMethod(request)) co_return std::move(*rejected);
  if (path == "/" || path == "/index.html") co_return makeResponse(200, kHtml, renderLandingPage());
  if (path == "/health") co_return makeResponse(200, "text/plain; charset=utf-8", "Product page is healthy\n");
  if (path == "/logout") co_return redirectToProductPage("user=; Path=/; Max-Age=0");
  if (path == "/productpage") {
    Response page = co_await productPage(std::move(request));
    co_return page;
  }
  if (path.rfind("/api/v1/products", 0) == 0) {
    Response answer = co_await productApi(std::move(request));
    co_return answer;
  }
  co_return makeResponse(404, kHtml, "<h1>Not Found</h1><p>" + htmlEscape(path) + " is not here.</p>\n");
}

Response ProductPageService::login(const Request& request) const {
  auto user = formField(request.body(), "username");
  if (!user || !validUserName(*user))
    return makeResponse(400, kHtml,
                        "<h1>Bad Request</h1><p>A user name is 1 to 64 letters, digits, '.', '_', '-' or "
                        "'@'.</p><p><a href=\"/productpage\">back</a></p>\n");
  observe::logScope("demo").info("{}: {} signed in", instance_.instanceName(), *user);
  return redirectToProductPage("user=" + *user + "; Path=/");
}

boost::asio::awaitable<Response> ProductPageService::productPage(Request request) {
  const HeaderList headers = forwardHeaders(request);
  UpstreamReply details_reply = co_await client_->get(details_, "/details/0", headers);
  UpstreamReply reviews_reply = co_await client_->get(reviews_, "/reviews/0", headers);
  std::optional<JsonObject> details, reviews;
  if (details_reply.ok()) details = parseJsonObject(details_reply.body);
  if (reviews_reply.ok()) reviews = parseJsonObject(reviews_reply.body);
  auto& log = observe::logScope("demo");
  if (!details)
    log.warn("{}: details failed: {}", instance_.instanceName(),
             details_reply.status ? "status " + std::to_string(details_reply.status) : details_reply.error);
  if (!reviews)
    log.warn("{}: reviews failed: {}", instance_.instanceName(),
             reviews_reply.status ? "status " + std::to_string(reviews_reply.status) : reviews_reply.error);
  ProductPageView view;
  view.user = userFromCookie(request);
  view.details = details ? &*details : nullptr;
  view.reviews = reviews ? &*reviews : nullptr;
  co_return makeResponse(200, kHtml, renderProductPage(view));
}

boost::asio::awaitable<Response> ProductPageService::productApi(Request request) {
  std::string_view rest = targetPath(request.target()).substr(std::string_view("/api/v1/products").size());
  if (rest.empty() || rest == "/") co_return jsonResponse(200, productsJson());
  if (rest.front() != '/') co_return jsonResponse(404, errorJson("not found"));
  rest.remove_prefix(1);
  size_t slash = rest.find('/');
  auto id = parseProductId(rest.substr(0, slash));
  std::string_view what = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!what.empty() && what != "/reviews" && what != "/ratings") co_return jsonResponse(404, errorJson("not found"));
  if (!id) co_return jsonResponse(400, errorJson("please provide numeric product ID"));
  const HeaderList headers = forwardHeaders(request);
  const std::string suffix = "/" + std::to_string(*id);
  if (what == "/reviews") {
    UpstreamReply reply = co_await client_->get(reviews_, "/reviews" + suffix, headers);
    co_return relay(reply, kReviewsUnavailable);
  }
  if (what == "/ratings") {
    if (!ratings_) co_return jsonResponse(503, errorJson(kRatingsUnavailable));
    UpstreamReply reply = co_await client_->get(*ratings_, "/ratings" + suffix, headers);
    co_return relay(reply, kRatingsUnavailable);
  }
  UpstreamReply reply = co_await client_->get(details_, "/details" + suffix, headers);
  co_return relay(reply, kDetailsUnavailable);
}

}  // namespace monomesh::demo
