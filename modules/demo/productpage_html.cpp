#include "demo/productpage_html.h"

#include <google/protobuf/struct.pb.h>

#include "demo/catalog.h"

namespace monomesh::demo {

namespace {

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;margin:0;background:#fafafa;color:#222}"
    "nav{background:#24324a;color:#fff;padding:.6em 1.2em;display:flex;justify-content:space-between}"
    "nav a{color:#cde}main{max-width:60em;margin:1.5em auto;padding:0 1em}"
    ".columns{display:flex;gap:2em}.columns section{flex:1}"
    "blockquote{border-left:4px solid #ccd;margin:1em 0;padding:.3em 1em;background:#fff}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dd{margin:0}"
    ".stars{font-size:1.3em;margin-left:.6em}.error{color:#a00}.served-by{color:#555;font-size:.9em}";

std::string pageStart(std::string_view title) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + htmlEscape(title) +
         "</title><style>" + std::string(kStyle) + "</style></head><body>\n";
}

std::string navigation(const std::string& user) {
  std::string out = "<nav><span><a href=\"/\">Bookinfo on monomesh</a></span><span>";
  if (user.empty()) {
    out += "<form method=\"post\" action=\"/login\" style=\"margin:0\">"
           "<input name=\"username\" placeholder=\"user name\" size=\"12\"> "
           "<input name=\"passwd\" type=\"password\" placeholder=\"password\" size=\"10\"> "
           "<button type=\"submit\">Sign in</button></form>";
  } else {
    out += "signed in as <b class=\"user\">" + htmlEscape(user) + "</b> &middot; <a href=\"/logout\">sign out</a>";
  }
  return out + "</span></nav>\n";
}

// Only a plain colour name reaches the style attribute.
std::string safeColor(const std::string& color) {
  if (color.empty() || color.size() > 20) return "black";
  for (char c : color)
    if (c < 'a' || c > 'z') return "black";
  return color;
}

std::string starsHtml(const JsonObject& rating) {
  if (auto error = stringField(rating, "error"))
    return "<p class=\"rating-error\"><em>" + htmlEscape(*error) + "</em></p>";
  auto stars = numberField(rating, "stars");
  if (!stars) return {};
  int count = *stars < 0 ? 0 : *stars > 5 ? 5 : static_cast<int>(*stars);
  std::string glyphs;
  for (int i = 0; i < 5; ++i) glyphs += i < count ? "\u2605" : "\u2606";
  return "<span class=\"stars\" style=\"color:" + safeColor(stringField(rating, "color").value_or("")) + "\">" +
         glyphs + "</span>";
}

std::string detailsSection(const JsonObject* details) {
  std::string out = "<section class=\"details\">";
  if (!details)
    return out + "<h4 class=\"error\">Error fetching product details!</h4><p>" + std::string(kDetailsUnavailable) +
           "</p></section>\n";
  out += "<h4>Book Details</h4><dl>";
  const std::pair<const char*, const char*> rows[] = {
      {"Author", "author"},       {"Year", "year"},         {"Type", "type"},       {"Pages", "pages"},
      {"Publisher", "publisher"}, {"Language", "language"}, {"ISBN-10", "ISBN-10"}, {"ISBN-13", "ISBN-13"}};
  for (const auto& [label, key] : rows)
    out += std::string("<dt>") + label + ":</dt><dd>" + htmlEscape(fieldText(*details, key)) + "</dd>";
  out += "</dl>";
  if (auto instance = stringField(*details, "instance"))
    out += "<p class=\"served-by\">Details served by: <b>" + htmlEscape(*instance) + "</b></p>";
  return out + "</section>\n";
}

std::string reviewsSection(const JsonObject* reviews) {
  std::string out = "<section class=\"reviews\">";
  if (!reviews)
    return out + "<h4 class=\"error\">Error fetching product reviews!</h4><p>" + std::string(kReviewsUnavailable) +
           "</p></section>\n";
  out += "<h4>Book Reviews</h4>";
  auto list = reviews->fields().find("reviews");
  if (list != reviews->fields().end() && list->second.has_list_value()) {
    for (const auto& item : list->second.list_value().values()) {
      if (!item.has_struct_value()) continue;
      const JsonObject& review = item.struct_value();
      out += "<blockquote><p>" + htmlEscape(stringField(review, "text").value_or("")) + "</p><small>" +
             htmlEscape(stringField(review, "reviewer").value_or("")) + "</small>";
      if (const JsonObject* rating = objectField(review, "rating")) out += starsHtml(*rating);
      out += "</blockquote>";
    }
  }
  std::string version = stringField(*reviews, "reviewsVersion").value_or("?");
  std::string instance = stringField(*reviews, "instance").value_or(version);
  out += "<p class=\"served-by\">Reviews served by: <b class=\"reviews-version\">" + htmlEscape(version) + "</b>";
  if (instance != version) out += " (instance " + htmlEscape(instance) + ")";
  if (auto ratings = stringField(*reviews, "ratingsInstance"); ratings && !ratings->empty())
    out += " &middot; ratings served by: <b class=\"ratings-instance\">" + htmlEscape(*ratings) + "</b>";
  return out + "</p></section>\n";
}

}  // namespace

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string renderLandingPage() {
  return pageStart("Bookinfo on monomesh") + "<nav><span>Bookinfo on monomesh</span></nav>\n" +
         "<main><h2>Bookinfo, served through the mesh</h2>"
         "<p>A small bookstore made of four services: <b>productpage</b> asks <b>details</b> about the "
         "book and <b>reviews</b> for what readers said; reviews v2 and v3 ask <b>ratings</b> for the "
         "stars (black in v2, red in v3). Every call goes through a sidecar, so routing rules, faults and "
         "timeouts change what you see.</p>"
         "<p><a href=\"/productpage\">Open the product page</a></p>"
         "<p>The JSON behind it: <a href=\"/api/v1/products\">/api/v1/products</a>, "
         "<a href=\"/api/v1/products/0\">/api/v1/products/0</a>, "
         "<a href=\"/api/v1/products/0/reviews\">reviews</a>, "
         "<a href=\"/api/v1/products/0/ratings\">ratings</a>.</p></main></body></html>\n";
}

std::string renderProductPage(const ProductPageView& view) {
  return pageStart(std::string(kBookTitle) + " - Bookinfo") + navigation(view.user) + "<main><h2>" +
         htmlEscape(kBookTitle) + "</h2><p>" + std::string(kBookDescriptionHtml) + "</p><div class=\"columns\">" +
         detailsSection(view.details) + reviewsSection(view.reviews) + "</div></main></body></html>\n";
}

}  // namespace monomesh::demo
