// --listen ADDR:PORT: a small HTTP server for Prometheus to scrape. It serves the page it was
// last given at /metrics (GET or HEAD), a pointer to it at /, and 404 elsewhere; one connection
// at a time, each closed after its response, so a slow client can hold it up for a second at most.
#pragma once

#include <chrono>
#include <string>

#include "ringfile/programs/byte_streams.hpp"

namespace ringfile::status {

class MetricsServer {
 public:
  // Binds and listens on "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464", ":9464" for every
  // interface; port 0 picks a free one). Throws RuntimeFailure naming the address and the error.
  explicit MetricsServer(const std::string& address);

  // "127.0.0.1:9464": where it listens, with the port the system chose for port 0.
  const std::string& bound_address() const noexcept { return bound_address_; }

  void set_page(std::string page) { page_ = std::move(page); }
  // Answers requests until `deadline` or a stop signal.
  void serve_until(std::chrono::steady_clock::time_point deadline);

 private:
  void answer(int connection);

  programs::FileDescriptor socket_;
  std::string bound_address_;
  std::string page_;
};

// True when `text` has the form HOST:PORT that MetricsServer takes.
bool valid_listen_address(const std::string& text);

}  // namespace ringfile::status
