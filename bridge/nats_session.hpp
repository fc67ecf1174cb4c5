// A connection to NATS with its JetStream context, and what the bridge needs around the C client:
// owning handles, one-line descriptions of failures, and the connection's events (lost, back,
// refused) for the bridge's one-line notices.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::bridge {

struct MessageDeleter {
  void operator()(natsMsg* message) const noexcept { natsMsg_Destroy(message); }
};
using MessagePtr = std::unique_ptr<natsMsg, MessageDeleter>;

// JetStream error codes the bridge acts on (the server's "err_code").
inline constexpr int kJsStreamNotFound = 10059;
inline constexpr int kJsConsumerNotFound = 10014;
inline constexpr int kJsConsumerNameInUse = 10013;
inline constexpr int kJsNoMessageFound = 10037;
inline constexpr int kJsWrongLastMsgId = 10070;
inline constexpr int kJsWrongLastSequence = 10071;

// A NATS call that failed: its status, JetStream's error code (0 if none) and a description.
struct NatsFailure {
  natsStatus status = NATS_OK;
  int js_code = 0;
  std::string text;

  // No answer, or no server to answer now (a leader being elected, a connection being
  // re-established): worth retrying, unlike a refusal.
  bool transient() const noexcept;
};

// A failure to talk to JetStream that retrying may overcome (NatsFailure::transient).
class TransientFailure : public programs::RuntimeFailure {
 public:
  using programs::RuntimeFailure::RuntimeFailure;
};

// Throws TransientFailure or RuntimeFailure: "what: the failure's text".
[[noreturn]] void fail(const std::string& what, const NatsFailure& failure);

// "timeout", "stream not found (JetStream error 10059)", from a status and the thread's last
// error in the C client.
NatsFailure failure_of(natsStatus status, jsErrCode js_code);

struct SessionOptions {
  std::vector<std::string> urls;
  std::string client_name;
  std::chrono::milliseconds request_timeout{5000};
};

// @pre used by one thread, except that the client calls the handlers on its own threads.
class NatsSession {
 public:
  // Connects to the first server that answers (then follows the cluster, reconnecting forever).
  // Throws RuntimeFailure naming the URLs when none answers or the server refuses us.
  explicit NatsSession(const SessionOptions& options);
  ~NatsSession();
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;

  natsConnection* connection() const noexcept { return connection_; }
  jsCtx* jetstream() const noexcept { return jetstream_; }
  const std::string& urls_text() const noexcept { return urls_text_; }
  std::chrono::milliseconds request_timeout() const noexcept { return request_timeout_; }

  bool connected() const noexcept;
  // How often the client has reconnected so far: a retry waits no longer once it has.
  std::uint64_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }
  // An asynchronous error the server reported since the last call (a permissions violation, a
  // slow consumer), if any.
  std::optional<std::string> take_async_error();

  // Ends a subscription its owner is done with. nats.c 3.4 lets its reading thread use a
  // subscription that another thread has just freed (fixed in 3.6, nats.c issue 637; seen here as
  // a crash in natsConn_processMsg of `in` while a stream leader was killed), so it is
  // unsubscribed now and freed once a round trip to the server shows that the reading thread has
  // moved past every message it had read for it, or else when the connection is closed.
  void retire(natsSubscription* subscription) noexcept;

 private:
  static void on_error(natsConnection* connection, natsSubscription* subscription, natsStatus status, void* closure);
  static void on_reconnected(natsConnection* connection, void* closure);

  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
  std::string urls_text_;
  std::chrono::milliseconds request_timeout_;
  std::mutex async_error_mutex_;
  std::optional<std::string> async_error_;
  // Relaxed: a counter read to cut a wait short; nothing is published with it.
  std::atomic<std::uint64_t> reconnects_{0};
  std::vector<natsSubscription*> retired_;  // unsubscribed, not yet known to be safe to free
};

// Runs `attempt` until it does not throw TransientFailure, waiting with backoff in between and
// saying once through `notice` that JetStream does not answer. Gives up (rethrows) on a stop
// request, and turns a permissions violation the server reported meanwhile into a
// RuntimeFailure: without permission, requests go unanswered rather than refused.
template <class Attempt>
auto retry_while_transient(NatsSession& session, const std::function<void(const std::string&)>& notice,
                           Attempt&& attempt) -> decltype(attempt());

// Retrying with backoff: waits `backoff`, less if a stop is requested or the client reconnects
// meanwhile, then returns the next backoff (doubled up to `longest`; the first again after a
// reconnection, when the server is likely back).
std::chrono::milliseconds wait_before_retry(const NatsSession& session, std::chrono::milliseconds backoff,
                                            std::chrono::milliseconds first, std::chrono::milliseconds longest);

// The JetStream options for one request with the session's timeout.
jsOptions request_options(const NatsSession& session);

template <class Attempt>
auto retry_while_transient(NatsSession& session, const std::function<void(const std::string&)>& notice,
                           Attempt&& attempt) -> decltype(attempt()) {
  constexpr std::chrono::milliseconds kFirst{100};
  constexpr std::chrono::milliseconds kLongest{5000};
  std::chrono::milliseconds backoff = kFirst;
  bool noticed = false;
  for (;;) {
    try {
      return attempt();
    } catch (const TransientFailure& failure) {
      if (auto refused = session.take_async_error()) {
        throw programs::RuntimeFailure(std::string(failure.what()) + ", the server refused: " + *refused +
                                       "; check this user's permissions");
      }
      if (programs::stop_requested()) throw;
      if (!noticed) notice(std::string(failure.what()) + "; retrying with backoff");
      noticed = true;
    }
    backoff = wait_before_retry(session, backoff, kFirst, kLongest);
  }
}

}  // namespace ringfile::bridge
