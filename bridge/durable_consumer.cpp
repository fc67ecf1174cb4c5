#include "durable_consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <thread>

#include "ringfile/programs/program.hpp"

namespace ringfile::bridge {
namespace {

using programs::RuntimeFailure;

// Tries of a durable's creation while its name is still in use (create): 50 ms to 1.6 s apart,
// about 3 s in all.
constexpr int kNameInUseRetries = 6;

std::int64_t nanoseconds(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

constexpr std::string_view kOwnerPrefix = "ringfile-bridge in to ";

// The description of a durable that feeds `ring` from this machine.
std::string owner_description(const std::filesystem::path& ring) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::error_code ignored;
  std::filesystem::path absolute = std::filesystem::absolute(ring, ignored);
  if (absolute.empty()) absolute = ring;
  return std::string(kOwnerPrefix) + host + ":" + absolute.lexically_normal().string();
}

}  // namespace

std::string stream_made_again(const InSettings& settings, std::uint64_t written) {
  return "stream '" + settings.stream.stream + "' was deleted and made again since this ring's last message from it " +
         "(sequence " + std::to_string(written) + "); the new stream counts from 1, and going on would skip its first " +
         std::to_string(written) + " messages. To feed the ring from the new stream's start, remove the state file '" +
         settings.state_file.string() + "'";
}

DurableConsumer::DurableConsumer(NatsSession& session, const InSettings& settings, const StreamFacts& stream)
    : session_(session),
      settings_(settings),
      description_(owner_description(settings.ring)),
      stream_creation_time_ns_(stream.creation_time_ns) {
  if (stream.retention == js_InterestPolicy) {
    throw RuntimeFailure("stream '" + settings.stream.stream +
                         "' keeps messages only while consumers are interested (interest retention); "
                         "ringfile-bridge in re-creates its durable to rewind after a crash, which would drop "
                         "messages there: use a stream with limits or work-queue retention");
  }
  work_queue_ = stream.retention == js_WorkQueuePolicy;
  // A work queue wants each message acknowledged on its own; elsewhere one acknowledgement per
  // batch covers every message up to it.
  ack_all_ = !work_queue_;
}

std::uint64_t DurableConsumer::align(std::uint64_t written) {
  requests_.reset();
  jsOptions options = request_options(session_);
  const ConsumerInfoPtr info = look_up(options);
  if (!info) {
    create(written);
    requests_ = std::make_unique<PullRequests>(session_, settings_.stream.stream, settings_.durable);
    return written;
  }
  check_configuration(*info->Config);
  check_owner(*info->Config);
  const std::uint64_t ack_floor = info->AckFloor.Stream;
  const bool outstanding = info->NumAckPending > 0;
  const std::uint64_t delivered = info->Delivered.Consumer;
  const std::uint64_t delivered_stream = info->Delivered.Stream;
  if (ack_floor > written) {
    // Acknowledged means committed to a ring: to an earlier one at this path.
    ack_floor_adopted_ = ack_floor;
    written = ack_floor;
  }
  // A durable that would deliver again what the ring holds is re-created too: after a leader
  // change, the new leader can be a replica whose state is far behind (seen: delivered 129,559
  // with 145,107 in the ring), and skipping that many messages one by one looks like a stall.
  if (!outstanding && delivered_stream >= written) {
    expected_delivery_ = delivered + 1;
  } else {
    remove(options);
    create(written);
    rewinds_ += 1;
  }
  requests_ = std::make_unique<PullRequests>(session_, settings_.stream.stream, settings_.durable);
  return written;
}

void DurableConsumer::check_existing() const {
  const ConsumerInfoPtr info = look_up(request_options(session_));
  if (!info) return;  // created by align(), for this ring
  check_configuration(*info->Config);
  check_owner(*info->Config);
}

ConsumerInfoPtr DurableConsumer::look_up(const jsOptions& options) const {
  jsOptions request = options;
  jsConsumerInfo* info = nullptr;
  jsErrCode js_code{};
  const natsStatus status = js_GetConsumerInfo(&info, session_.jetstream(), settings_.stream.stream.c_str(),
                                               settings_.durable.c_str(), &request, &js_code);
  if (status == NATS_NOT_FOUND || js_code == kJsConsumerNotFound) return nullptr;
  if (status != NATS_OK) {
    fail("cannot look up durable '" + settings_.durable + "' of stream '" + settings_.stream.stream + "'",
         failure_of(status, js_code));
  }
  return ConsumerInfoPtr(info);
}

void DurableConsumer::recreate(std::uint64_t written) {
  requests_.reset();
  remove(request_options(session_));
  create(written);
  rewinds_ += 1;
  requests_ = std::make_unique<PullRequests>(session_, settings_.stream.stream, settings_.durable);
}

std::optional<bool> DurableConsumer::stream_has_after(std::uint64_t written) const {
  jsOptions options = request_options(session_);
  jsErrCode js_code{};
  if (settings_.stream.subject.empty()) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, session_.jetstream(), settings_.stream.stream.c_str(), &options, &js_code) != NATS_OK) {
      return std::nullopt;
    }
    // A purged stream keeps its last sequence but holds nothing to deliver.
    const bool behind = info->State.Msgs > 0 && info->State.LastSeq > written;
    jsStreamInfo_Destroy(info);
    return behind;
  }
  natsMsg* raw = nullptr;
  const natsStatus status = js_GetLastMsg(&raw, session_.jetstream(), settings_.stream.stream.c_str(),
                                          settings_.stream.subject.c_str(), &options, &js_code);
  const MessagePtr last(raw);
  if (status == NATS_OK) return natsMsg_GetSequence(last.get()) > written;
  if (js_code == kJsNoMessageFound) return false;
  return std::nullopt;
}

void DurableConsumer::remove(const jsOptions& options) {
  jsOptions request = options;
  jsErrCode js_code{};
  const natsStatus deleted = js_DeleteConsumer(session_.jetstream(), settings_.stream.stream.c_str(),
                                               settings_.durable.c_str(), &request, &js_code);
  if (deleted != NATS_OK && deleted != NATS_NOT_FOUND && js_code != kJsConsumerNotFound) {
    fail("cannot rewind durable '" + settings_.durable + "'", failure_of(deleted, js_code));
  }
}

void DurableConsumer::check_same_stream(std::uint64_t written, const jsOptions& options) const {
  jsOptions request = options;
  jsStreamInfo* info = nullptr;
  jsErrCode js_code{};
  const natsStatus status =
      js_GetStreamInfo(&info, session_.jetstream(), settings_.stream.stream.c_str(), &request, &js_code);
  if (status != NATS_OK) {
    fail("cannot look up stream '" + settings_.stream.stream + "'", failure_of(status, js_code));
  }
  const bool same = static_cast<std::uint64_t>(info->Created) == stream_creation_time_ns_ && info->State.LastSeq >= written;
  jsStreamInfo_Destroy(info);
  if (!same) throw RuntimeFailure(stream_made_again(settings_, written));
}

void DurableConsumer::create(std::uint64_t written) {
  jsOptions options = request_options(session_);
  // A work queue delivers whatever it holds; elsewhere the new durable starts after `written`.
  if (!work_queue_ && written > 0) check_same_stream(written, options);
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = settings_.durable.c_str();
  config.Description = description_.c_str();
  config.AckPolicy = ack_all_ ? js_AckAll : js_AckExplicit;
  config.AckWait = nanoseconds(settings_.ack_wait);
  config.MaxDeliver = -1;
  config.MaxAckPending = std::max<std::int64_t>(1024, 4 * static_cast<std::int64_t>(settings_.batch));
  if (!settings_.stream.subject.empty()) config.FilterSubject = settings_.stream.subject.c_str();
  // A work queue holds only what is not acknowledged yet, and delivers it all; elsewhere delivery
  // starts right after the last message the ring holds.
  if (work_queue_ || written == 0) {
    config.DeliverPolicy = js_DeliverAll;
  } else {
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = written + 1;
  }
  jsConsumerInfo* info = nullptr;
  jsErrCode js_code{};
  natsStatus status =
      js_AddConsumer(&info, session_.jetstream(), settings_.stream.stream.c_str(), &config, &options, &js_code);
  // The name still in use: the durable was removed just before (a rewind) and a replicated
  // stream's nodes have not all dropped it yet, or a lookup answered by a replica behind its
  // leader missed it (seen under load: "consumer name already in use" right after the delete).
  // Remove it again and retry, a few times, further apart each time.
  auto pause = std::chrono::milliseconds(50);
  // Not when it is another ring's: an `in` for that ring created it meanwhile.
  for (int attempt = 0; status != NATS_OK && js_code == kJsConsumerNameInUse && attempt < kNameInUseRetries; ++attempt) {
    std::this_thread::sleep_for(pause);
    pause *= 2;
    check_owner_of_existing(options);
    remove(options);
    js_code = {};
    status = js_AddConsumer(&info, session_.jetstream(), settings_.stream.stream.c_str(), &config, &options, &js_code);
  }
  if (status != NATS_OK) {
    fail("cannot create durable '" + settings_.durable + "' on stream '" + settings_.stream.stream + "'",
         failure_of(status, js_code));
  }
  jsConsumerInfo_Destroy(info);
  expected_delivery_ = 1;
}

void DurableConsumer::check_configuration(const jsConsumerConfig& config) const {
  std::string differences;
  const auto differ = [&](const std::string& difference) {
    differences += (differences.empty() ? "" : ", ") + difference;
  };
  if (config.DeliverSubject != nullptr && *config.DeliverSubject != '\0') differ("a push consumer (wanted pull)");
  const std::string filter = config.FilterSubject != nullptr ? config.FilterSubject : "";
  if (!settings_.stream.subject.empty() && filter != settings_.stream.subject) {
    differ("subject filter '" + filter + "' (asked '" + settings_.stream.subject + "')");
  }
  if (config.AckPolicy != js_AckAll && config.AckPolicy != js_AckExplicit) differ("no acknowledgements");
  if ((config.AckPolicy == js_AckAll) != ack_all_) {
    differ(std::string("ack policy ") + (config.AckPolicy == js_AckAll ? "all" : "explicit") + " (wanted " +
           (ack_all_ ? "all" : "explicit") + ")");
  }
  if (!differences.empty()) {
    throw RuntimeFailure("durable '" + settings_.durable + "' of stream '" + settings_.stream.stream +
                         "' exists with another configuration: " + differences +
                         "; choose another --durable, or delete that consumer");
  }
}

void DurableConsumer::check_owner(const jsConsumerConfig& config) const {
  const std::string_view description = config.Description != nullptr ? config.Description : "";
  if (!description.starts_with(kOwnerPrefix) || description == description_) return;
  throw RuntimeFailure("durable '" + settings_.durable + "' of stream '" + settings_.stream.stream + "' feeds another ring (" +
                       std::string(description.substr(kOwnerPrefix.size())) +
                       "); each ring needs a durable of its own: choose another --durable, or delete that consumer");
}

void DurableConsumer::check_owner_of_existing(const jsOptions& options) const {
  jsOptions request = options;
  jsConsumerInfo* info = nullptr;
  jsErrCode js_code{};
  if (js_GetConsumerInfo(&info, session_.jetstream(), settings_.stream.stream.c_str(), settings_.durable.c_str(),
                         &request, &js_code) != NATS_OK) {
    return;  // gone, or not answering: the retry finds out
  }
  try {
    check_owner(*info->Config);
  } catch (...) {
    jsConsumerInfo_Destroy(info);
    throw;
  }
  jsConsumerInfo_Destroy(info);
}

}  // namespace ringfile::bridge
