// The ringfile modes of the ping-pong benchmark: two ring files on /dev/shm (or --ring-dir), "ping" written by
// the initiator and read by the echo process, "pong" the other way. Each record goes through
// Producer::claim / commit and Consumer::poll, with the payload CRC32C on (the default); a side
// with nothing to read calls Consumer::wait, which waits as ProducerOptions / ConsumerOptions
// ::idle say:
//   ringfile_spin     IdleStrategy::busy_spin
//   ringfile_default  IdleStrategy::spin_then_sleep (the default)
//   ringfile_sleep    IdleStrategy::sleep
// and, to show where a busy-spin hop's time goes, two variants of ringfile_spin:
//   ringfile_write_spin  Producer::write from the sender's buffer instead of claim / commit
//   ringfile_nocrc_spin  checksums off on both sides
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ringfile/consumer.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "pingpong/pingpong.hpp"

namespace ringfile::bench::pingpong {

namespace {

constexpr std::chrono::seconds kPeerTimeout{10};

struct RingPaths {
  std::string ping;
  std::string pong;
};

// How a mode uses the library.
struct Variant {
  const char* name;
  IdleStrategy idle;
  bool checksums = true;
  bool write = false;  // Producer::write from the sender's buffer, else claim / commit
};

// One side's ends: a producer on one ring and a consumer on the other, attached from the start.
// Records are read in place, as the slot modes read theirs: the handler gets the payload in the
// mapping (the block policy keeps those bytes until the poll ends), and the echo answers from
// there, inside the handler, as the slot modes' echo answers from its slot.
class Side {
 public:
  Side(const std::string& send_path, const std::string& receive_path, const Variant& variant, bool pre_touch)
      : producer_(send_path, producer_options(variant, pre_touch)),
        consumer_(Consumer::attach(receive_path, consumer_options(variant, pre_touch))),
        write_(variant.write) {}

  // Sends `bytes` stamped with `sequence`. With claim / commit it copies them into the claim and
  // stamps them there; Producer::write copies from a buffer of the caller's, so they are copied
  // (where they are not already the side's own buffer) and stamped in `buffer_` first.
  bool send(std::uint64_t sequence, std::span<const std::byte> bytes) noexcept {
    if (write_) {
      if (bytes.data() != buffer_.data()) buffer_.assign(bytes.begin(), bytes.end());
      stamp_record(buffer_.data(), sequence);
      return producer_.write(buffer_, kPeerTimeout) == ClaimStatus::ok;
    }
    const ClaimResult claim = producer_.claim(bytes.size(), kPeerTimeout);
    if (!claim) return false;
    std::memcpy(claim.buffer.data(), bytes.data(), bytes.size());
    stamp_record(claim.buffer.data(), sequence);
    return producer_.commit() == ClaimStatus::ok;
  }

  // Sends the side's own record of `record_bytes` (the initiator's).
  bool send_own(std::uint64_t sequence, std::size_t record_bytes) noexcept {
    buffer_.resize(record_bytes, std::byte{0x5a});
    return send(sequence, buffer_);
  }

  // Waits for the next record and hands its payload, in place, to `take`, which returns whether
  // it is the right one (and has done with it). False when no record came or `take` said no.
  template <class Take>
  bool receive(Take&& take) noexcept {
    bool received = false;
    bool accepted = false;
    const auto handle = [&](const Record& record) {
      received = true;
      accepted = take(record.payload);
    };
    while (!received) {
      const PollResult polled = consumer_.poll(handle, 1);
      if (polled.status != PollStatus::ok) return false;
      if (!received && !consumer_.wait(kPeerTimeout)) return false;
    }
    return accepted;
  }

 private:
  static ProducerOptions producer_options(const Variant& variant, bool pre_touch) {
    ProducerOptions options;
    options.idle = variant.idle;
    options.compute_checksums = variant.checksums;
    options.pre_touch = pre_touch;
    return options;
  }
  static ConsumerOptions consumer_options(const Variant& variant, bool pre_touch) {
    ConsumerOptions options;
    options.start = StartFrom::earliest;
    options.idle = variant.idle;
    options.verify_checksums = variant.checksums;
    options.pre_touch = pre_touch;
    return options;
  }

  Producer producer_;
  Consumer consumer_;
  bool write_ = false;
  std::vector<std::byte> buffer_;  // the record sent from the side's own bytes (see send)
};

PingPongResult run_ringfile(const PingPongConfig& config, const Variant& variant) {
  const std::string stem = config.ring_dir + "/ringfile-bench-pingpong-" + std::to_string(::getpid());
  const RingPaths paths{stem + "-ping.ring", stem + "-pong.ring"};
  PingPongResult result;
  try {
    CreateOptions create;
    create.capacity_bytes = kRingBytes;
    create.policy = WriterPolicy::block;
    create.max_record_bytes =
        static_cast<std::uint32_t>(std::max<std::size_t>(config.record_bytes, kStampBytes));
    const Ring ping_ring = Ring::create(paths.ping, create);
    const Ring pong_ring = Ring::create(paths.pong, create);
    const auto echo = [&] {
      // Created in the echo process: producers run housekeeping threads, which a fork would not
      // carry over.
      Side side(paths.pong, paths.ping, variant, config.pre_touch);
      for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
        const auto answer = [&](std::span<const std::byte> bytes) {
          return carries(bytes, sequence) && side.send(sequence, bytes);
        };
        if (!side.receive(answer)) return false;
      }
      return true;
    };
    // Created at the first (untimed) round trip, after the fork, for the same reason.
    std::optional<Side> side;
    result = run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
      if (!side) side.emplace(paths.ping, paths.pong, variant, config.pre_touch);
      return side->send_own(sequence, config.record_bytes) &&
             side->receive([&](std::span<const std::byte> bytes) { return carries(bytes, sequence, &answer_sent_ns); });
    });
  } catch (const std::exception& failure) {
    result.error = std::string(variant.name) + ": " + failure.what();
  }
  std::error_code ignored;
  std::filesystem::remove(paths.ping, ignored);
  std::filesystem::remove(paths.pong, ignored);
  return result;
}

PingPongResult run_ringfile_spin(const PingPongConfig& config) {
  return run_ringfile(config, {"ringfile_spin", IdleStrategy::busy_spin});
}
PingPongResult run_ringfile_default(const PingPongConfig& config) {
  return run_ringfile(config, {"ringfile_default", IdleStrategy::spin_then_sleep});
}
PingPongResult run_ringfile_sleep(const PingPongConfig& config) {
  return run_ringfile(config, {"ringfile_sleep", IdleStrategy::sleep});
}
PingPongResult run_ringfile_write_spin(const PingPongConfig& config) {
  return run_ringfile(config, {"ringfile_write_spin", IdleStrategy::busy_spin, true, true});
}
PingPongResult run_ringfile_nocrc_spin(const PingPongConfig& config) {
  return run_ringfile(config, {"ringfile_nocrc_spin", IdleStrategy::busy_spin, false, false});
}

}  // namespace

const PingPongMode kRingfileSpinMode{
    "ringfile_spin",
    "two ring files on /dev/shm, claim/commit and poll, CRC32C on, IdleStrategy::busy_spin",
    run_ringfile_spin,
};

const PingPongMode kRingfileDefaultMode{
    "ringfile_default",
    "as ringfile_spin with IdleStrategy::spin_then_sleep (the default)",
    run_ringfile_default,
};

const PingPongMode kRingfileSleepMode{
    "ringfile_sleep",
    "as ringfile_spin with IdleStrategy::sleep",
    run_ringfile_sleep,
};

const PingPongMode kRingfileWriteSpinMode{
    "ringfile_write_spin",
    "as ringfile_spin with Producer::write from the sender's buffer instead of claim / commit",
    run_ringfile_write_spin,
};

const PingPongMode kRingfileNocrcSpinMode{
    "ringfile_nocrc_spin",
    "as ringfile_spin with checksums off on both sides",
    run_ringfile_nocrc_spin,
};

}  // namespace ringfile::bench::pingpong
