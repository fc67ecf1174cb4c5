// The durable JetStream pull consumer of `ringfile-bridge in`, kept in line with its ring.
//
// The ring (through the write journal) knows the last stream sequence it holds; the durable knows
// what it delivered and what was acknowledged. After a crash they differ: messages delivered to
// the dead process and never acknowledged would come back only after the acknowledgement timeout,
// behind newer ones. So the bridge rewinds instead: it re-creates the durable to deliver, in
// order, from the message after the last one the ring holds. It does the same when a delivery went
// missing on the way (the consumer sequence of a message skips one), which happens when a
// connection drops with messages in flight.
//
// A durable feeds one ring: its description names the ring's host and path, and an `in` for
// another ring that finds it refuses to take it over (the two would rewind it in turn, each from
// its own ring, and split the stream between the rings). A durable without such a description
// (created by hand, or before) is taken and named.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bridge_settings.hpp"
#include "nats_session.hpp"
#include "pull_requests.hpp"
#include "stream_setup.hpp"

namespace ringfile::bridge {

// Why `in` stops when the stream the ring was fed from was deleted and made again under its name
// since the ring's last message from it (sequence `written`): the new stream counts from 1 again,
// and going on after `written` would skip as many of its messages.
std::string stream_made_again(const InSettings& settings, std::uint64_t written);

// Owns what js_GetConsumerInfo returns.
struct ConsumerInfoDeleter {
  void operator()(jsConsumerInfo* info) const noexcept { jsConsumerInfo_Destroy(info); }
};
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter>;

class DurableConsumer {
 public:
  // Throws RuntimeFailure for a stream whose retention the rewind would harm (interest).
  DurableConsumer(NatsSession& session, const InSettings& settings, const StreamFacts& stream);
  DurableConsumer(const DurableConsumer&) = delete;
  DurableConsumer& operator=(const DurableConsumer&) = delete;

  // Makes the durable deliver the messages after `written` in order and pulls from it: keeps
  // it when nothing it delivered waits for an acknowledgement and it has delivered up to
  // `written` at least, else re-creates it. Returns the
  // last sequence to count as written: `written`, or the durable's acknowledgement floor when that
  // is further (the ring was replaced since). Throws RuntimeFailure when the durable exists with
  // another configuration, or JetStream refuses.
  std::uint64_t align(std::uint64_t written);
  // Throws RuntimeFailure where align() would refuse the durable as it is now (it exists with
  // another configuration, or feeds another ring), TransientFailure when JetStream cannot be
  // asked. For a ring still to be created (--create): such a run then creates nothing.
  void check_existing() const;
  // Re-creates the durable to deliver the messages after `written`, without asking it first: for
  // a durable that does not answer (its raft group has no working leader), whose consumer info
  // cannot be had either. Throws as align().
  void recreate(std::uint64_t written);

  // Whether the stream holds a message for this durable after `written`, asked of the stream's
  // leader (not of the durable, whose leader may be a replica that fell behind); nullopt when it
  // cannot be asked now.
  std::optional<bool> stream_has_after(std::uint64_t written) const;

  PullRequests& requests() const noexcept { return *requests_; }
  // The consumer sequence the next delivery must carry; any other means one went missing.
  std::uint64_t expected_delivery() const noexcept { return expected_delivery_; }
  void delivered() noexcept { expected_delivery_ += 1; }
  // Acknowledges everything up to `message` (ack-all), or just it (ack-explicit, for work queues).
  bool acknowledges_all() const noexcept { return ack_all_; }
  // Times the durable was re-created to rewind it.
  std::uint64_t rewinds() const noexcept { return rewinds_; }
  std::uint64_t ack_floor_adopted() const noexcept { return ack_floor_adopted_; }

 private:
  // Throws RuntimeFailure (stream_made_again) when the stream is not the one found at start, or
  // ends before `written`: the durable went with the old stream, and a new one started after
  // `written` would skip the new stream's first messages.
  void check_same_stream(std::uint64_t written, const jsOptions& options) const;
  void create(std::uint64_t written);
  void remove(const jsOptions& options);
  // The durable's info, or nullptr when there is no such durable. Throws as fail().
  ConsumerInfoPtr look_up(const jsOptions& options) const;
  void check_configuration(const jsConsumerConfig& config) const;
  // Throws RuntimeFailure when the durable feeds another ring.
  void check_owner(const jsConsumerConfig& config) const;
  // For a durable in the way of create(): throws as check_owner when it feeds another ring.
  void check_owner_of_existing(const jsOptions& options) const;

  NatsSession& session_;
  const InSettings& settings_;
  std::string description_;  // names the ring this durable feeds (owner_description)
  std::uint64_t stream_creation_time_ns_ = 0;  // of the stream found at start (StreamFacts)
  bool work_queue_ = false;
  bool ack_all_ = true;
  std::unique_ptr<PullRequests> requests_;
  std::uint64_t expected_delivery_ = 1;
  std::uint64_t rewinds_ = 0;
  std::uint64_t ack_floor_adopted_ = 0;
};

}  // namespace ringfile::bridge
