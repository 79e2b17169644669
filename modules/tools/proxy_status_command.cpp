// `monomesh proxy-status`: each proxy connected to Pilot and whether it has what Pilot last sent
// it, per xDS type (istioctl proxy-status). Reads Pilot's /debug/syncz.
#include <cstdio>

#include "tools/debug_fetch.h"
#include "tools/tools.h"

namespace monomesh::tools {

namespace {

// SYNCED: the last response was ACKed; STALE: sent, not (yet) ACKed; NOT SENT: never asked for;
// a NACK shows as such, with the proxy's reason in --output json.
std::string state(const google::protobuf::Value& row, const std::string& type) {
  auto sent = text(member(row, type + "_sent"));
  if (sent.empty()) return "NOT SENT";
  if (!text(member(row, type + "_nack")).empty()) return "NACKED";
  return sent == text(member(row, type + "_acked")) ? "SYNCED" : "STALE";
}

}  // namespace

cli::Command proxyStatusCommand() {
  using cli::Flag;
  using cli::FlagType;
  return cli::Command{
      "proxy-status", cli::CommandGroup::Tool, "Sync status of every proxy connected to Pilot (istioctl proxy-status)",
      "monomesh proxy-status [--pilot ADDRESS] [PROXY]",
      "Lists the proxies connected to Pilot and, for CDS, LDS, EDS and RDS, whether each has ACKed\n"
      "what Pilot last sent it: SYNCED, STALE (sent, not acknowledged), NACKED or NOT SENT. With PROXY\n"
      "(a node ID or its pod.namespace part) only that proxy is shown.",
      {Flag{"pilot", FlagType::String, "127.0.0.1:8080", "Pilot's debug address (--httpAddr)"},
       Flag{"output", FlagType::String, "text", "text or json", 'o'}},
      [](const cli::ParsedFlags& f) {
        std::string error;
        auto rows = fetchJson(f.str("pilot"), "/debug/syncz", error);
        if (!rows) {
          std::fprintf(stderr, "monomesh proxy-status: %s\n", error.c_str());
          return cli::kExitFailure;
        }
        std::string only = f.positional().empty() ? std::string() : f.positional().front();
        if (f.str("output") == "json") {
          auto full = httpGet(f.str("pilot"), "/debug/syncz", error);
          std::fputs(full ? full->c_str() : "", stdout);
          return cli::kExitOk;
        }
        std::printf("%-60s %-9s %-9s %-9s %-9s %s\n", "NAME", "CDS", "LDS", "EDS", "RDS", "PILOT");
        int shown = 0;
        for (const auto& row : rows->list_value().values()) {
          auto name = text(member(row, "proxy"));
          if (!only.empty() && name != only && name.find("~" + only + "~") == std::string::npos) continue;
          ++shown;
          std::printf("%-60s %-9s %-9s %-9s %-9s %s\n", name.c_str(), state(row, "cluster").c_str(),
                      state(row, "listener").c_str(), state(row, "endpoint").c_str(), state(row, "route").c_str(),
                      f.str("pilot").c_str());
        }
        if (!only.empty() && shown == 0) {
          std::fprintf(stderr, "monomesh proxy-status: no proxy %s is connected to Pilot at %s\n", only.c_str(),
                       f.str("pilot").c_str());
          return cli::kExitFailure;
        }
        return cli::kExitOk;
      },
      true};
}

}  // namespace monomesh::tools
