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
class Side {
 public:
  Side(const std::string& send_path, const std::string& receive_path, const Variant& variant)
      : producer_(send_path, producer_options(variant)),
        consumer_(Consumer::attach(receive_path, consumer_options(variant))),
        write_(variant.write) {}

  // Sends `bytes` stamped with `sequence` (the stamp written into them first when written whole).
  bool send(std::uint64_t sequence, std::span<std::byte> bytes) noexcept {
    if (write_) {
      stamp_record(bytes.data(), sequence);
      return producer_.write(bytes, kPeerTimeout) == ClaimStatus::ok;
    }
    const ClaimResult claim = producer_.claim(bytes.size(), kPeerTimeout);
    if (!claim) return false;
    std::memcpy(claim.buffer.data(), bytes.data(), bytes.size());
    stamp_record(claim.buffer.data(), sequence);
    return producer_.commit() == ClaimStatus::ok;
  }

  // Waits for the next record, copies it into `into` and checks it carries `sequence`; its send
  // stamp goes to `sent_ns`.
  bool receive(std::uint64_t sequence, std::vector<std::byte>& into, std::uint64_t& sent_ns) noexcept {
    bool received = false;
    const auto handle = [&](const Record& record) {
      into.assign(record.payload.begin(), record.payload.end());
      received = true;
    };
    while (!received) {
      const PollResult polled = consumer_.poll(handle, 1);
      if (polled.status != PollStatus::ok) return false;
      if (!received && !consumer_.wait(kPeerTimeout)) return false;
    }
    return carries(into, sequence, &sent_ns);
  }

 private:
  static ProducerOptions producer_options(const Variant& variant) {
    ProducerOptions options;
    options.idle = variant.idle;
    options.compute_checksums = variant.checksums;
    return options;
  }
  static ConsumerOptions consumer_options(const Variant& variant) {
    ConsumerOptions options;
    options.start = StartFrom::earliest;
    options.idle = variant.idle;
    options.verify_checksums = variant.checksums;
    return options;
  }

  Producer producer_;
  Consumer consumer_;
  bool write_ = false;
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
      Side side(paths.pong, paths.ping, variant);
      std::vector<std::byte> record;
      record.reserve(config.record_bytes);
      for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
        std::uint64_t ignored = 0;
        if (!side.receive(sequence, record, ignored) || !side.send(sequence, record)) return false;
      }
      return true;
    };
    // Created at the first (untimed) round trip, after the fork, for the same reason.
    std::optional<Side> side;
    std::vector<std::byte> record(config.record_bytes, std::byte{0x5a});
    std::vector<std::byte> answer;
    answer.reserve(config.record_bytes);
    result = run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
      if (!side) side.emplace(paths.ping, paths.pong, variant);
      return side->send(sequence, record) && side->receive(sequence, answer, answer_sent_ns);
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
