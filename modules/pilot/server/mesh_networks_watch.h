// Follows pilot-discovery's --networksConfig file. It is read at start-up (a broken file, or a
// missing one the flag named, stops the start) and again every second: it is small, and a
// Kubernetes ConfigMap volume replaces it by swapping a symlink, which comparing the content sees
// where a watch on the file would not. A change counts once two polls in a row read the same
// text, so a file caught half-written is never applied. A changed valid file replaces the networks
// (the caller pushes in full); a broken or vanished one is logged and flagged
// (monomesh_pilot_networks_config_invalid) and the last good networks stay.
#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pilot/model/mesh_networks.h"

namespace monomesh::pilot {

class MeshNetworksWatch {
 public:
  using Apply = std::function<void(std::shared_ptr<const MeshNetworks>)>;
  MeshNetworksWatch(boost::asio::io_context& context, std::string path,
                    std::chrono::milliseconds interval = std::chrono::seconds(1));

  // Reads the file; "" or what is wrong ("cannot read ...", the first error with file:line:column).
  // A missing file is an error only when `required` (the flag was given); then there are no networks.
  std::string load(bool required);
  const std::shared_ptr<const MeshNetworks>& networks() const { return networks_; }

  // Polls the file; `apply` runs (on the context) with each valid change.
  void start(Apply apply);
  void stop();

 private:
  void poll();
  // A rejected text (nullopt: the file cannot be read) is logged once, flagged while it stays.
  void reject(const std::optional<std::string>& text, const config::ConfigErrors& errors);

  boost::asio::steady_timer timer_;
  std::string path_;
  std::chrono::milliseconds interval_;
  Apply apply_;
  std::shared_ptr<const MeshNetworks> networks_;  // null: no networks
  std::string good_text_;      // the text `networks_` came from
  std::optional<std::string> last_read_;  // what the last poll read (nullopt: nothing)
  bool good_missing_ = false;  // no file was there when it was last good
  // The last rejection reported, if any: the text, or nullopt for an unreadable file.
  std::optional<std::optional<std::string>> reported_;
  bool stopped_ = false;
};

}  // namespace monomesh::pilot
