// `iceoryx_spin`: Eclipse iceoryx 2.0 (Debian's libiceoryx-posh-dev) as a baseline, busy-spinning
// like `slot_spin` and `ringfile_spin`: a publisher and a subscriber each way through the shared
// memory of its daemon RouDi. A send loans a chunk, writes the record into it (stamped: sequence number
// and send time) and publishes it; the other side spins on take(), reads the record in place, answers
// through its own loaned chunk and releases the one it took. Zero copy both ways.
//
// Built only where the package is installed. Each pass starts its own `iox-roudi` and stops it.
// An iceoryx runtime can be set up once per process, so each pass runs in a process of its own
// (the initiator), which forks the echo; both set up their runtime after the fork, the
// initiator in its first (untimed, warm-up) round trip.
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "pingpong/pingpong.hpp"
#include "support/forked_pair.hpp"
#include "support/iceoryx_runtime.hpp"
#include "support/roudi_process.hpp"
#include "support/spin_wait.hpp"

namespace ringfile::bench::pingpong {

namespace {

iox::capro::ServiceDescription ping_service() { return {"ringfile-bench", "pingpong", "ping"}; }
iox::capro::ServiceDescription pong_service() { return {"ringfile-bench", "pingpong", "pong"}; }

// One process's two ends: it publishes on one service and takes from the other.
class IceoryxEnds {
 public:
  IceoryxEnds(const iox::capro::ServiceDescription& send, const iox::capro::ServiceDescription& receive)
      : publisher_(send), subscriber_(receive) {}

  // Until the other process subscribed to what this one sends: a record published before that
  // would go nowhere (no history is kept). False after kPeerTimeoutNs.
  bool wait_for_peer() {
    SpinGuard guard;
    while (!publisher_.hasSubscribers()) {
      if (!guard.keep_spinning()) return false;
    }
    return true;
  }

  // Sends `bytes` stamped with `sequence` (stamp_record). False when no chunk can be loaned.
  bool send(std::uint64_t sequence, std::span<const std::byte> bytes) {
    auto loaned = publisher_.loan(static_cast<std::uint32_t>(bytes.size()));
    if (loaned.has_error()) return false;
    auto* const chunk = static_cast<std::byte*>(loaned.value());
    std::memcpy(chunk, bytes.data(), bytes.size());
    stamp_record(chunk, sequence);
    publisher_.publish(chunk);
    return true;
  }

  // Spins until a record arrives; hands it to `use` in place, then releases it. False after
  // kPeerTimeoutNs without one, or when `use` returns false.
  template <typename Use>
  bool receive(Use&& use) {
    SpinGuard guard;
    for (;;) {
      auto taken = subscriber_.take();
      if (!taken.has_error()) {
        const void* chunk = taken.value();
        const auto* header = iox::mepoo::ChunkHeader::fromUserPayload(chunk);
        const bool used =
            use(std::span<const std::byte>(static_cast<const std::byte*>(chunk), header->userPayloadSize()));
        subscriber_.release(chunk);
        return used;
      }
      if (!guard.keep_spinning()) return false;
    }
  }

 private:
  iox::popo::UntypedPublisher publisher_;
  iox::popo::UntypedSubscriber subscriber_;
};

PingPongResult run_pass(const PingPongConfig& config) {
  const auto echo = [&] {
    init_iceoryx_runtime("echo");
    IceoryxEnds ends(pong_service(), ping_service());
    if (!ends.wait_for_peer()) return false;
    for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
      const bool answered = ends.receive([&](std::span<const std::byte> record) {
        return carries(record, sequence) && ends.send(sequence, record);
      });
      if (!answered) return false;
    }
    return true;
  };
  std::unique_ptr<IceoryxEnds> initiator;
  std::vector<std::byte> record(config.record_bytes, std::byte{0x5a});
  return run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
    if (!initiator) {
      init_iceoryx_runtime("initiator");
      initiator = std::make_unique<IceoryxEnds>(ping_service(), pong_service());
      if (!initiator->wait_for_peer()) return false;
    }
    if (!initiator->send(sequence, record)) return false;
    return initiator->receive(
        [&](std::span<const std::byte> answer) { return carries(answer, sequence, &answer_sent_ns); });
  });
}

PingPongResult run_iceoryx_spin(const PingPongConfig& config) {
  PingPongResult failed;
  const RoudiProcess roudi;
  if (!roudi.error().empty()) {
    failed.error = "iceoryx_spin: " + roudi.error();
    return failed;
  }
  // The samples travel as one list: the half round trips, then as many return trips.
  std::optional<ChildReport> report = run_in_child_process([&] {
    PingPongResult pass = run_pass(config);
    std::vector<std::uint64_t> samples = std::move(pass.half_round_trip_ns);
    samples.insert(samples.end(), pass.return_trip_ns.begin(), pass.return_trip_ns.end());
    return ChildReport{{}, std::move(pass.error), std::move(samples)};
  });
  if (!report) {
    failed.error = "iceoryx_spin: the pass's process ended without a result";
    return failed;
  }
  const auto half = static_cast<std::ptrdiff_t>(report->samples.size() / 2);
  return {std::move(report->text), {report->samples.begin(), report->samples.begin() + half},
          {report->samples.begin() + half, report->samples.end()}};
}

}  // namespace

const PingPongMode kIceoryxSpinMode{
    "iceoryx_spin",
    "Eclipse iceoryx 2.0: loan, publish, take, release each way through RouDi's shared memory, busy spin",
    run_iceoryx_spin,
};

}  // namespace ringfile::bench::pingpong
