// Both ends of a pass, shared by every transport: the producer's record (a sequence number and a
// CLOCK_MONOTONIC send stamp in its first 16 bytes, then filler) and the consumer's log (latency
// per record from that stamp, sequence check, first and last send times, last arrival time).
//
// With --clock-every N (PassConfig::clock_every) both sides read the clock for a producer's
// records 0, N, 2N, ... (and its last, and the consumer for the last record it expects) only: a
// reading costs 20-30 ns on some machines, twice a record, and it orders the instructions around
// it, so at small sizes it hides much of what a transport itself costs. The records in between
// carry the producer's last reading; the consumer neither times them nor counts their stamps.
//
// Records of 8 to 15 bytes carry a compact header instead: the low 32 bits of the sequence and of
// the send stamp. The consumer widens both from its own counters: a pass holds far fewer than 2^32
// records and a record spends far less than 4.2 s (2^32 ns) in flight.
//
// With several producers (--producers) each numbers its own records from 0 and puts its index in
// the sequence's top byte; the consumer checks each producer's records are in order. Such records
// carry the full header (16 bytes at least).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ringfile/system/clock.hpp"
#include "support/spin_wait.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

inline constexpr std::size_t kRecordHeaderBytes = 2 * sizeof(std::uint64_t);
inline constexpr std::size_t kCompactRecordHeaderBytes = 2 * sizeof(std::uint32_t);
inline constexpr unsigned kProducerIndexShift = 56;

// @pre the producer thread/process only.
class RecordStamper {
 public:
  explicit RecordStamper(const PassConfig& config, std::uint32_t producer_index = 0)
      : send_interval_ns_(config.send_interval_ns),
        producer_bits_(static_cast<std::uint64_t>(producer_index) << kProducerIndexShift),
        clock_every_(config.clock_every),
        last_sequence_(records_of_producer(config, producer_index) - 1) {}

  // Waits for the record's send slot when paced, then stamps `record` (@pre at least
  // kRecordHeaderBytes) with the sequence and the time now: call it right before handing over.
  void stamp(std::span<std::byte> record, std::uint64_t sequence) noexcept {
    if (send_interval_ns_ != 0) {
      if (sequence == 0) first_send_ns_ = system::monotonic_ns();
      const std::uint64_t due_ns = first_send_ns_ + sequence * send_interval_ns_;
      while (system::monotonic_ns() < due_ns) cpu_relax();
    }
    if (sequence % clock_every_ == 0 || sequence == last_sequence_) last_reading_ns_ = system::monotonic_ns();
    const std::uint64_t now_ns = last_reading_ns_;
    if (record.size() < kRecordHeaderBytes) {
      const auto sequence_low = static_cast<std::uint32_t>(sequence);
      const auto now_low = static_cast<std::uint32_t>(now_ns);
      std::memcpy(record.data(), &sequence_low, sizeof(sequence_low));
      std::memcpy(record.data() + sizeof(sequence_low), &now_low, sizeof(now_low));
      return;
    }
    const std::uint64_t numbered = producer_bits_ | sequence;
    std::memcpy(record.data(), &numbered, sizeof(numbered));
    std::memcpy(record.data() + sizeof(numbered), &now_ns, sizeof(now_ns));
  }

 private:
  std::uint64_t send_interval_ns_;
  std::uint64_t producer_bits_;
  std::uint64_t clock_every_;
  std::uint64_t last_sequence_;
  std::uint64_t first_send_ns_ = 0;
  std::uint64_t last_reading_ns_ = 0;
};

// Filler after the header, so records are not pages of zeros.
inline void fill_record(std::span<std::byte> record) noexcept {
  for (std::size_t index = kRecordHeaderBytes; index < record.size(); ++index) {
    record[index] = static_cast<std::byte>((index * 131 + 17) & 0xff);
  }
}

// @pre the consumer thread/process only.
class ReceiveLog {
 public:
  explicit ReceiveLog(const PassConfig& config)
      : expected_records_(config.records), clock_every_(config.clock_every) {
    latencies_ns_.reserve(config.records / config.clock_every + config.producers);
  }

  void on_record(std::span<const std::byte> record) noexcept {
    std::uint64_t sequence = 0;
    std::uint64_t send_ns = 0;
    std::uint32_t send_low = 0;
    const bool compact = record.size() < kRecordHeaderBytes;
    if (compact) {
      std::uint32_t sequence_low = 0;
      std::memcpy(&sequence_low, record.data(), sizeof(sequence_low));
      std::memcpy(&send_low, record.data() + sizeof(sequence_low), sizeof(send_low));
      // Unsigned wrap-around makes the difference right across a 2^32 boundary.
      sequence = next_sequence_[0] + static_cast<std::uint32_t>(
                                         sequence_low - static_cast<std::uint32_t>(next_sequence_[0]));
    } else {
      std::memcpy(&sequence, record.data(), sizeof(sequence));
      std::memcpy(&send_ns, record.data() + sizeof(sequence), sizeof(send_ns));
    }
    const std::uint64_t producer = sequence >> kProducerIndexShift;
    if (producer >= kMostProducers) {
      ++sequence_errors_;
    } else {
      sequence &= (std::uint64_t{1} << kProducerIndexShift) - 1;
      if (sequence != next_sequence_[producer]) ++sequence_errors_;
      next_sequence_[producer] = sequence + 1;
    }
    ++received_;
    const bool timed = sequence % clock_every_ == 0;
    if (!timed && received_ != expected_records_) return;
    const std::uint64_t arrival_ns = system::monotonic_ns();
    last_arrival_ns_ = arrival_ns;
    // The last record: its producer read the clock for it (its last), so its stamp counts for the
    // producers' pace; it is timed only if its sequence says so.
    if (!timed) {
      if (!compact) last_send_ns_ = std::max(last_send_ns_, send_ns);
      return;
    }
    if (compact) {
      // The same for the stamp: a record spends far less than 2^32 ns in flight.
      send_ns = arrival_ns - static_cast<std::uint32_t>(static_cast<std::uint32_t>(arrival_ns) - send_low);
    }
    if (timed_ == 0 || send_ns < first_send_ns_) first_send_ns_ = send_ns;
    last_send_ns_ = std::max(last_send_ns_, send_ns);
    ++timed_;
    // reserve() made room for every timed record: no allocation while timing.
    if (latencies_ns_.size() < latencies_ns_.capacity()) {
      latencies_ns_.push_back(arrival_ns > send_ns ? arrival_ns - send_ns : 0);
    }
  }

  std::uint64_t received() const noexcept { return received_; }

  PassResult finish() && {
    PassResult result;
    result.records_received = received_;
    result.sequence_errors = sequence_errors_;
    result.seconds = system::seconds_between(first_send_ns_, last_arrival_ns_);
    result.first_send_ns = first_send_ns_;
    result.last_send_ns = last_send_ns_;
    result.last_arrival_ns = last_arrival_ns_;
    result.latencies_ns = std::move(latencies_ns_);
    return result;
  }

  // What a consumer that spun in vain for kPeerTimeoutNs (SpinGuard) returns.
  PassResult producer_gone() && {
    PassResult result = std::move(*this).finish();
    result.error = "no record for " + std::to_string(kPeerTimeoutNs / 1'000'000'000) + " s: producer gone?";
    return result;
  }

 private:
  std::uint64_t expected_records_;
  std::uint64_t clock_every_;
  std::vector<std::uint64_t> latencies_ns_;
  std::uint64_t received_ = 0;
  std::uint64_t timed_ = 0;
  std::uint64_t next_sequence_[kMostProducers] = {};  // per producer
  std::uint64_t sequence_errors_ = 0;
  std::uint64_t first_send_ns_ = 0;
  std::uint64_t last_send_ns_ = 0;
  std::uint64_t last_arrival_ns_ = 0;
};

}  // namespace ringfile::bench::throughput
