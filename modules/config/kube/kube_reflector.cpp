#include "config/kube/kube_reflector.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <yaml-cpp/yaml.h>

#include "config/kube/kube_list_page.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace monomesh::config::kube {

namespace asio = boost::asio;

namespace {

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The message of a metav1.Status body, else the start of the body.
std::string statusMessage(const std::string& body) {
  try {
    YAML::Node status = YAML::Load(body);
    if (status.IsMap() && status["message"].IsDefined() && status["message"].IsScalar()) return status["message"].Scalar();
  } catch (const YAML::Exception&) {
  }
  return body.substr(0, 200);
}

std::string httpFailure(unsigned status, const std::string& body, const KubeClient& client, const Schema& kind,
                        const std::string& path) {
  std::string out = "HTTP " + std::to_string(status);
  if (std::string message = statusMessage(body); !message.empty()) out += ": " + message;
  if (status == 401) out += " (the API server rejected the credentials of " + client.credentials().origin + ")";
  if (status == 403) out += " (the account may not list and watch " + kind.plural + ": check its RBAC)";
  if (status == 404) out += " (the API server does not serve " + path + "; is the CRD installed?)";
  return out;
}

}  // namespace

struct KubeReflector::Metrics {
  observe::Counter& lists;
  observe::Counter& relists;
  observe::Counter& errors;
  observe::Family<observe::Counter>& events;
  std::string cluster;
  std::string kind;
};

KubeReflectorStats& KubeReflectorStats::operator+=(const KubeReflectorStats& o) {
  lists += o.lists;
  relists += o.relists;
  watches += o.watches;
  watch_events += o.watch_events;
  watch_drops += o.watch_drops;
  errors += o.errors;
  return *this;
}

KubeReflector::KubeReflector(std::shared_ptr<KubeClient> client, const Schema& kind, LoadOptions load,
                             KubeReflectorOptions options, KubeReflectorHandlers handlers)
    : client_(std::move(client)),
      kind_(&kind),
      load_(std::move(load)),
      options_(options),
      handlers_(std::move(handlers)),
      path_(collectionPath(kind)),
      origin_("kube:" + load_.cluster_id + "/" + kind.plural),
      timer_(client_->executor()),
      random_(std::random_device{}()) {
  auto& registry = observe::MetricsRegistry::global();
  std::initializer_list<std::string_view> labels{load_.cluster_id, kind.kind};
  metrics_ = std::make_shared<Metrics>(Metrics{
      registry.counter("monomesh_config_kube_lists_total", "Completed LISTs of a kind", {"cluster", "kind"}).with(labels),
      registry.counter("monomesh_config_kube_relists_total", "LISTs after the first (410 Gone, broken streams)",
                       {"cluster", "kind"}).with(labels),
      registry.counter("monomesh_config_kube_errors_total", "Failed requests and broken watch streams",
                       {"cluster", "kind"}).with(labels),
      registry.counter("monomesh_config_kube_watch_events_total", "Watch events received by type",
                       {"cluster", "kind", "type"}),
      load_.cluster_id, kind.kind});
}

void KubeReflector::start() { asio::co_spawn(client_->executor(), run(shared_from_this()), asio::detached); }

void KubeReflector::stop() {
  stopped_ = true;
  timer_.cancel();
  if (auto stream = current_.lock()) stream->close();
}

asio::awaitable<void> KubeReflector::run(std::shared_ptr<KubeReflector> self) { co_await self->loop(); }

asio::awaitable<void> KubeReflector::loop() {
  while (!stopped_) {
    bool listed = co_await list();
    if (stopped_) break;
    if (!listed) {
      co_await backoff();
      continue;
    }
    for (;;) {
      WatchEnd end = co_await watch();
      if (stopped_) co_return;
      if (end == WatchEnd::Closed) continue;  // the server's timeoutSeconds: resume at once
      if (end == WatchEnd::Gone) {
        observe::logScope("kube").info("{} {}: resourceVersion {} is gone; listing again", load_.cluster_id,
                                       kind_->kind, resource_version_);
        if (gone_streak_++ > 0) co_await backoff();  // the server keeps refusing fresh versions
        break;
      }
      co_await backoff();
      if (end == WatchEnd::Relist) break;
    }
  }
}

asio::awaitable<void> KubeReflector::backoff() {
  if (stopped_) co_return;
  next_backoff_ = next_backoff_.count() == 0 ? options_.backoff_initial : std::min(options_.backoff_max, next_backoff_ * 2);
  // Half fixed, half random: clients that failed together do not retry together.
  std::uniform_int_distribution<int64_t> jitter(0, next_backoff_.count() / 2);
  timer_.expires_after(next_backoff_ - std::chrono::milliseconds(jitter(random_)));
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void KubeReflector::fail(const std::string& what) {
  stats_.errors++;
  metrics_->errors.inc();
  last_error_ = what;
  auto next = next_backoff_.count() == 0 ? options_.backoff_initial : std::min(options_.backoff_max, next_backoff_ * 2);
  observe::logScope("kube").warn("{} {}: {}; retrying in about {} ms", load_.cluster_id, kind_->kind, what, next.count());
}

void KubeReflector::succeeded() {
  next_backoff_ = std::chrono::milliseconds(0);
  last_error_.clear();
}

asio::awaitable<bool> KubeReflector::list() {
  std::vector<KubeObject> items;
  std::string continue_token, version;
  for (;;) {
    std::string target = path_ + "?limit=" + std::to_string(options_.page_size);
    if (!continue_token.empty()) target += "&continue=" + urlEncode(continue_token);
    KubeResponse response = co_await client_->get(target, options_.max_list_body);
    if (stopped_) co_return false;
    if (response.status != 200) {
      fail("LIST " + client_->url(target) + ": " +
           (response.status == 0 ? response.error : httpFailure(response.status, response.body, *client_, *kind_, path_)));
      co_return false;
    }
    ListPageParse parsed = parseListPage(response.body, *kind_, load_, origin_);
    if (!parsed.page) {
      fail("LIST " + client_->url(target) + ": " + parsed.error);
      co_return false;
    }
    for (auto& item : parsed.page->items) items.push_back(std::move(item));
    version = parsed.page->resource_version;
    continue_token = parsed.page->continue_token;
    if (continue_token.empty()) break;
  }
  resource_version_ = version;
  if (stats_.lists++ > 0) {
    stats_.relists++;
    metrics_->relists.inc();
  }
  metrics_->lists.inc();
  succeeded();
  observe::logScope("kube").debug("{} {}: listed {} objects at resourceVersion {}", load_.cluster_id, kind_->kind,
                                  items.size(), version);
  handlers_.replace(*kind_, std::move(items));
  co_return true;
}

asio::awaitable<KubeReflector::WatchEnd> KubeReflector::watch() {
  std::uniform_int_distribution<int64_t> spread(0, options_.watch_timeout.count());
  int64_t timeout_seconds = std::max<int64_t>(1, options_.watch_timeout.count() + spread(random_));
  std::string target = path_ + "?watch=1&resourceVersion=" + urlEncode(resource_version_) +
                       "&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout_seconds);
  auto stream = co_await client_->open(target);
  current_ = stream;
  if (stopped_) co_return WatchEnd::Failed;
  if (stream->status() == 410) co_return WatchEnd::Gone;
  if (stream->status() != 200) {
    std::string why = stream->error();
    if (stream->status() != 0) {
      auto body = co_await stream->readAll(64 * 1024, client_->options().response_timeout);
      why = httpFailure(stream->status(), body.data, *client_, *kind_, path_);
    }
    fail("WATCH " + client_->url(target) + ": " + why);
    co_return WatchEnd::Failed;
  }
  stats_.watches++;
  auto idle = options_.watch_idle_timeout.count() > 0
                  ? options_.watch_idle_timeout
                  : std::chrono::milliseconds(std::chrono::seconds(timeout_seconds) + std::chrono::seconds(30));
  WatchLineBuffer lines(options_.max_event_line);
  bool received = false;
  for (;;) {
    KubeResponseStream::Piece piece = co_await stream->read(idle);
    if (stopped_) co_return WatchEnd::Failed;
    if (!lines.append(piece.data)) {
      stream->close();
      fail("WATCH " + client_->url(target) + ": an event line is larger than " + std::to_string(options_.max_event_line) +
           " bytes; listing again");
      co_return WatchEnd::Relist;
    }
    while (auto line = lines.next()) {
      WatchEnd end = WatchEnd::Failed;
      if (!onLine(*line, received, end)) {
        stream->close();
        co_return end;
      }
      if (stopped_) co_return WatchEnd::Failed;
    }
    if (!piece.error.empty()) {
      stats_.watch_drops++;
      fail("WATCH " + kind_->plural + " dropped at resourceVersion " + resource_version_ + ": " + piece.error);
      if (received) next_backoff_ = std::chrono::milliseconds(0);  // it worked for a while: retry soon
      co_return WatchEnd::Failed;
    }
    if (piece.end) co_return WatchEnd::Closed;
  }
}

bool KubeReflector::onLine(const std::string& line, bool& received, WatchEnd& end) {
  WatchEventParse parsed = parseWatchEvent(line, *kind_, load_, origin_);
  if (!parsed.event) {
    fail("WATCH " + kind_->plural + ": " + parsed.error);
    end = WatchEnd::Failed;
    return false;
  }
  WatchEvent& event = *parsed.event;
  metrics_->events.with({metrics_->cluster, metrics_->kind, watchEventTypeName(event.type)}).inc();
  if (event.type == WatchEventType::Error) {
    if (event.code == 410) {
      end = WatchEnd::Gone;
    } else {
      fail("WATCH " + kind_->plural + ": ERROR event " + std::to_string(event.code) + ": " + event.message);
      end = WatchEnd::Failed;
    }
    return false;
  }
  stats_.watch_events++;
  if (!received) succeeded();
  received = true;
  gone_streak_ = 0;
  if (!event.object.resource_version.empty()) resource_version_ = event.object.resource_version;
  if (event.type != WatchEventType::Bookmark) handlers_.event(*kind_, std::move(event));
  return true;
}

}  // namespace monomesh::config::kube
