#include "nats_session.hpp"

#include <signal.h>

#include <algorithm>
#include <new>

#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::bridge {
namespace {

// The client's own threads must not take SIGINT/SIGTERM: the program's loop looks at stop
// requests, and a signal would interrupt the client's system calls. Threads inherit the mask of
// the thread that creates them, so the signals are blocked while the client starts its threads.
class StopSignalsBlocked {
 public:
  StopSignalsBlocked() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_);
  }
  ~StopSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopSignalsBlocked(const StopSignalsBlocked&) = delete;
  StopSignalsBlocked& operator=(const StopSignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

void check_setup(natsStatus status, const char* what) {
  if (status != NATS_OK) {
    throw programs::RuntimeFailure(std::string("setting up the NATS client (") + what +
                                   ") failed: " + natsStatus_GetText(status));
  }
}

// The URLs for messages, without credentials (nats://user:password@host -> nats://host).
std::string join_without_credentials(const std::vector<std::string>& urls) {
  std::string text;
  for (const auto& url : urls) {
    std::string shown = url;
    const auto at = shown.rfind('@');
    if (at != std::string::npos) {
      const auto scheme_end = shown.find("://");
      const auto start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
      shown.erase(start, at + 1 - start);
    }
    text += (text.empty() ? "" : ",") + shown;
  }
  return text;
}

// "(js.c:535): wrong last sequence: 3" -> "wrong last sequence: 3"
std::string without_source_location(const std::string& text) {
  if (text.empty() || text.front() != '(') return text;
  const auto end = text.find("): ");
  return end == std::string::npos ? text : text.substr(end + 3);
}

}  // namespace

NatsFailure failure_of(natsStatus status, jsErrCode js_code) {
  NatsFailure failure{status, static_cast<int>(js_code), {}};
  // The client keeps the text of its last failure per thread; it is this failure's only when the
  // statuses agree (a "not found" sets no text and would show an older one).
  natsStatus last_status = NATS_OK;
  const char* last_error = nats_GetLastError(&last_status);
  std::string text;
  if (last_status == status && last_error != nullptr && *last_error != '\0') {
    text = without_source_location(last_error);
  } else if (js_code == kJsStreamNotFound) {
    text = "stream not found";
  } else if (js_code == kJsConsumerNotFound) {
    text = "consumer not found";
  } else if (js_code == kJsNoMessageFound) {
    text = "no message found";
  } else if (status == NATS_TIMEOUT) {
    text = "no answer in time";
  } else if (status == NATS_NO_RESPONDERS) {
    text = "no server answers for it (JetStream not enabled, or the stream has no leader now)";
  } else {
    text = natsStatus_GetText(status);
  }
  if (js_code != 0) text += " (JetStream error " + std::to_string(js_code) + ")";
  failure.text = text;
  return failure;
}

bool NatsFailure::transient() const noexcept {
  constexpr int kJsTemporarilyUnavailable = 10008;
  return status == NATS_TIMEOUT || status == NATS_NO_RESPONDERS || status == NATS_CONNECTION_DISCONNECTED ||
         status == NATS_CONNECTION_CLOSED || status == NATS_NO_SERVER || js_code == kJsTemporarilyUnavailable;
}

void fail(const std::string& what, const NatsFailure& failure) {
  if (failure.transient()) throw TransientFailure(what + ": " + failure.text);
  throw programs::RuntimeFailure(what + ": " + failure.text);
}

NatsSession::NatsSession(const SessionOptions& options)
    : urls_text_(join_without_credentials(options.urls)), request_timeout_(options.request_timeout) {
  StopSignalsBlocked blocked;
  check_setup(natsOptions_Create(&options_), "options");
  std::vector<const char*> servers;
  for (const auto& url : options.urls) servers.push_back(url.c_str());
  check_setup(natsOptions_SetServers(options_, servers.data(), static_cast<int>(servers.size())), "servers");
  check_setup(natsOptions_SetName(options_, options.client_name.c_str()), "name");
  check_setup(natsOptions_SetTimeout(options_, 2000), "connect timeout");
  // Once connected, keep trying forever: the bridge waits for the cluster rather than give up.
  check_setup(natsOptions_SetMaxReconnect(options_, -1), "reconnect");
  check_setup(natsOptions_SetReconnectWait(options_, 200), "reconnect wait");
  // A server that stops answering (a partition, not a crash) is noticed within seconds.
  check_setup(natsOptions_SetPingInterval(options_, 2000), "ping interval");
  check_setup(natsOptions_SetMaxPingsOut(options_, 2), "pings out");
  // Requests in flight when the connection drops fail at once instead of waiting out their timeout.
  check_setup(natsOptions_SetFailRequestsOnDisconnect(options_, true), "requests on disconnect");
  check_setup(natsOptions_SetReconnectBufSize(options_, 64 * 1024 * 1024), "reconnect buffer");
  check_setup(natsOptions_SetErrorHandler(options_, &NatsSession::on_error, this), "error handler");
  check_setup(natsOptions_SetReconnectedCB(options_, &NatsSession::on_reconnected, this), "reconnected handler");

  const natsStatus connected = natsConnection_Connect(&connection_, options_);
  if (connected != NATS_OK) {
    const char* text = nats_GetLastError(nullptr);
    natsOptions_Destroy(options_);
    throw programs::RuntimeFailure("cannot connect to NATS at " + urls_text_ + ": " +
                                   (text != nullptr && *text != '\0' ? without_source_location(text)
                                                                     : std::string(natsStatus_GetText(connected))) +
                                   "; start nats-server there or correct --nats");
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  const natsStatus context = natsConnection_JetStream(&jetstream_, connection_, &js_options);
  if (context != NATS_OK) {
    natsConnection_Destroy(connection_);
    natsOptions_Destroy(options_);
    check_setup(context, "JetStream context");
  }
}

NatsSession::~NatsSession() {
  jsCtx_Destroy(jetstream_);
  // Closing joins the client's threads: nothing reads for the retired subscriptions after this.
  natsConnection_Destroy(connection_);
  for (natsSubscription* subscription : retired_) natsSubscription_Destroy(subscription);
  natsOptions_Destroy(options_);
}

void NatsSession::retire(natsSubscription* subscription) noexcept {
  if (subscription == nullptr) return;
  natsSubscription_Unsubscribe(subscription);
  try {
    retired_.push_back(subscription);
  } catch (const std::bad_alloc&) {
    return;  // out of memory: left to the end of the process rather than freed unsafely
  }
  // The server answers the PING after the UNSUB; the reading thread takes the PONG after every
  // message it read before it. Not while disconnected, and not for long: a bridge stopping while
  // the servers do not answer frees the subscriptions at the close instead.
  constexpr std::int64_t kRoundTripMs = 1000;
  const std::int64_t timeout_ms = std::min<std::int64_t>(kRoundTripMs, request_timeout_.count());
  if (!connected() || natsConnection_FlushTimeout(connection_, timeout_ms) != NATS_OK) return;
  for (natsSubscription* done : retired_) natsSubscription_Destroy(done);
  retired_.clear();
}

bool NatsSession::connected() const noexcept {
  return natsConnection_Status(connection_) == NATS_CONN_STATUS_CONNECTED;
}

std::optional<std::string> NatsSession::take_async_error() {
  std::lock_guard lock(async_error_mutex_);
  std::optional<std::string> error;
  error.swap(async_error_);
  return error;
}

void NatsSession::on_error(natsConnection* connection, natsSubscription*, natsStatus status, void* closure) {
  auto* session = static_cast<NatsSession*>(closure);
  const char* text = nullptr;
  natsConnection_GetLastError(connection, &text);
  std::lock_guard lock(session->async_error_mutex_);
  session->async_error_ = text != nullptr && *text != '\0' ? std::string(text) : std::string(natsStatus_GetText(status));
}

void NatsSession::on_reconnected(natsConnection*, void* closure) {
  static_cast<NatsSession*>(closure)->reconnects_.fetch_add(1, std::memory_order_relaxed);
}

std::chrono::milliseconds wait_before_retry(const NatsSession& session, std::chrono::milliseconds backoff,
                                            std::chrono::milliseconds first, std::chrono::milliseconds longest) {
  constexpr std::chrono::milliseconds kSlice{20};
  const std::uint64_t reconnects = session.reconnects();
  const auto end = std::chrono::steady_clock::now() + backoff;
  while (!programs::stop_requested() && std::chrono::steady_clock::now() < end) {
    if (session.reconnects() != reconnects) return first;
    programs::sleep_unless_stopped(kSlice);
  }
  return std::min(backoff * 2, longest);
}

jsOptions request_options(const NatsSession& session) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = session.request_timeout().count();
  return options;
}

}  // namespace ringfile::bridge
