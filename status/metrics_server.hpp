// --listen ADDR:PORT: a small HTTP server for Prometheus to scrape. It serves the page it was
// last given at /metrics (GET or HEAD), a pointer to it at /, and 404 elsewhere, each connection
// closed after its response. Clients are served side by side (up to 64, non-blocking, one poll),
// each within 2 s for its whole exchange: one that trickles its request, sends nothing, or reads
// nothing is dropped then, and holds up no other client, nor the sampling, meanwhile. Beyond 64,
// and for 100 ms at a time while the process is out of file descriptors, new clients wait in the
// listen backlog.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ringfile/programs/byte_streams.hpp"

namespace ringfile::status {

class MetricsServer {
 public:
  // Binds and listens on "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464", ":9464" for every
  // interface; port 0 picks a free one). Throws RuntimeFailure naming the address and the error.
  explicit MetricsServer(const std::string& address);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "127.0.0.1:9464": where it listens, with the port the system chose for port 0.
  const std::string& bound_address() const noexcept { return bound_address_; }

  void set_page(std::string page) {
    page_ = std::move(page);
    metrics_reply_.reset();  // clients being sent the last one keep it
  }
  // Answers requests until `deadline` or a stop signal. Clients still being served then are
  // served on by the next call.
  void serve_until(std::chrono::steady_clock::time_point deadline);

 private:
  struct Connection;
  void accept_clients();
  // Reads the request or sends the reply, as far as the socket takes now. False when the
  // connection is done with: answered, or gone.
  bool progress(Connection& connection);
  std::shared_ptr<const std::string> reply_to(const std::string& request);

  programs::FileDescriptor socket_;
  std::string bound_address_;
  std::string page_;
  std::shared_ptr<const std::string> metrics_reply_;  // the response to GET /metrics, made once a page
  std::vector<std::unique_ptr<Connection>> connections_;
  // Accepting failed for want of file descriptors (EMFILE, ENFILE): not tried again before this.
  std::chrono::steady_clock::time_point accept_paused_until_;
};

// True when `text` has the form HOST:PORT that MetricsServer takes.
bool valid_listen_address(const std::string& text);

}  // namespace ringfile::status
