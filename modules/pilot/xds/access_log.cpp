#include "pilot/xds/access_log.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace monomesh::pilot::xds {

namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using istio::mesh::v1alpha1::MeshConfig;

// Istio 1.1's default TEXT format (EnvoyTextLogFormat), newline included.
constexpr std::string_view kTextFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
    "%RESPONSE_FLAGS% \"%DYNAMIC_METADATA(istio.mixer:status)%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
    "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
    "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%\n";

// Istio 1.1's default JSON fields (EnvoyJSONLogFormat): the TEXT format's operators by name.
constexpr std::pair<const char*, const char*> kJsonFields[] = {
    {"start_time", "%START_TIME%"},
    {"method", "%REQ(:METHOD)%"},
    {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
    {"protocol", "%PROTOCOL%"},
    {"response_code", "%RESPONSE_CODE%"},
    {"response_flags", "%RESPONSE_FLAGS%"},
    {"bytes_received", "%BYTES_RECEIVED%"},
    {"bytes_sent", "%BYTES_SENT%"},
    {"duration", "%DURATION%"},
    {"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
    {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
    {"user_agent", "%REQ(USER-AGENT)%"},
    {"request_id", "%REQ(X-REQUEST-ID)%"},
    {"authority", "%REQ(:AUTHORITY)%"},
    {"upstream_host", "%UPSTREAM_HOST%"},
    {"upstream_cluster", "%UPSTREAM_CLUSTER%"},
    {"upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"},
    {"downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"},
    {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"},
    {"requested_server_name", "%REQUESTED_SERVER_NAME%"},
    {"istio_policy_status", "%DYNAMIC_METADATA(istio.mixer:status)%"},
};

google::protobuf::Struct jsonFields(const std::string& format) {
  google::protobuf::Struct fields;
  if (!format.empty()) {
    auto status = google::protobuf::util::JsonStringToMessage(format, &fields);
    if (status.ok()) return fields;
    // Istio 1.1 logged this and fell back to its default fields, as here.
    spdlog::warn("pilot: meshConfig accessLogFormat is not a JSON object ({}); using the default JSON fields",
                 status.ToString());
    fields.Clear();
  }
  for (const auto& [key, value] : kJsonFields) (*fields.mutable_fields())[key].set_string_value(value);
  return fields;
}

// `log` as a serialized repeated field `number`: appended to a serialized message it adds one
// element (protobuf merges concatenated encodings), so a filter's typed_config gains the log
// without being parsed and serialized again for every listener of every proxy.
std::string asRepeatedField(int number, const envoy::config::accesslog::v3::AccessLog& log) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
        number, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(log.ByteSizeLong()));
    log.SerializeWithCachedSizes(&coded);
  }
  return out;
}

// The log's encodings for the mesh's current settings, made again only when these change: once
// per mesh config rather than per proxy and push (so a format that is not JSON warns once).
struct SerializedLog {
  std::string file;
  std::string format;
  int encoding = -1;
  std::string for_hcm;  // HttpConnectionManager.access_log
  std::string for_tcp;  // TcpProxy.access_log
};

const SerializedLog& serializedFor(const MeshConfig& mesh) {
  thread_local SerializedLog cached;
  if (cached.encoding != mesh.access_log_encoding() || cached.file != mesh.access_log_file() ||
      cached.format != mesh.access_log_format()) {
    const auto log = meshAccessLog(mesh);
    cached = {mesh.access_log_file(), mesh.access_log_format(), mesh.access_log_encoding(),
              asRepeatedField(HttpConnectionManager::kAccessLogFieldNumber, log),
              asRepeatedField(TcpProxy::kAccessLogFieldNumber, log)};
  }
  return cached;
}

}  // namespace

envoy::config::accesslog::v3::AccessLog meshAccessLog(const MeshConfig& mesh) {
  envoy::extensions::access_loggers::file::v3::FileAccessLog file;
  file.set_path(mesh.access_log_file());
  if (mesh.access_log_encoding() == MeshConfig::JSON) {
    *file.mutable_log_format()->mutable_json_format() = jsonFields(mesh.access_log_format());
  } else {
    std::string format = mesh.access_log_format().empty() ? std::string(kTextFormat) : mesh.access_log_format();
    if (format.back() != '\n') format += '\n';  // one entry per line, as 1.1 wrote its own format
    file.mutable_log_format()->set_text_format(std::move(format));
  }
  envoy::config::accesslog::v3::AccessLog log;
  log.set_name("envoy.file_access_log");
  log.mutable_typed_config()->PackFrom(file);
  return log;
}

void addMeshAccessLog(const MeshConfig& mesh, std::vector<envoy::config::listener::v3::Listener>& listeners) {
  if (mesh.access_log_file().empty()) return;
  const auto& log = serializedFor(mesh);
  for (auto& listener : listeners) {
    for (auto& chain : *listener.mutable_filter_chains()) {
      for (auto& filter : *chain.mutable_filters()) {
        if (filter.name() == "envoy.filters.network.http_connection_manager") {
          filter.mutable_typed_config()->mutable_value()->append(log.for_hcm);
        } else if (filter.name() == "envoy.filters.network.tcp_proxy") {
          filter.mutable_typed_config()->mutable_value()->append(log.for_tcp);
        }
      }
    }
  }
}

}  // namespace monomesh::pilot::xds
