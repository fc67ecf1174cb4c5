// ringfile-bench-hot-path: what the library's hot path costs a record in one thread, where no line
// crosses between cores: a pass writes a chunk of records into a 64 MiB ring on tmpfs, polls them
// all, and so on until it has passed N records, timing the writing and the reading apart. Against
// the baseline of the same run: a fixed-slot ring in 64 MiB of memory written and read the same
// way (a sequence number and a copy per slot, release and acquire), the floor of any queue that
// copies the record in once.
//
//   ringfile-bench-hot-path [--record-size 64] [--records 1000000] [--repeat 5] [--ring-size 64M]
//                           [--modes ringfile,...] [--records-per-poll N] [--json]
//
// Two processes on two cores pay this and what crossing costs (ringfile-bench-throughput); here
// the crossing is left out, so the figures show which side's own work limits a pair and by how
// much. 64 MiB, as in ringfile-bench-throughput: the ring stays mapped whole, so what is timed is
// the hot path, not mapping a sliding view's pages again.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/units.hpp"
#include "support/cpu_pinning.hpp"
#include "support/machine_info.hpp"
#include "support/source_buffer.hpp"
#include "support/statistics.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace ringfile;

// The slot ring's buffer, the ring's default capacity; a chunk's records fill at most a quarter.
constexpr std::uint64_t kBufferBytes = 64 * kMiB;
constexpr std::uint64_t kChunkBytes = kBufferBytes / 4;

struct Options {
  std::uint64_t record_bytes = 64;
  std::uint64_t records = 1'000'000;
  std::uint64_t ring_bytes = kBufferBytes;  // the ringfile modes' capacity
  int repeat = 5;
  int cpu = 0;
  bool json = false;
  std::vector<std::string> modes;  // the ringfile modes to run; empty: all
  std::uint64_t records_per_poll = 0;  // the most a poll reads; 0: Consumer::poll's default
};

// How the producer hands its records over.
enum class Handover { write, claim_commit, write_batch };
constexpr std::size_t kBatchRecords = 32;

struct Mode {
  std::string name;
  Handover handover = Handover::write;
  bool checksums = true;
};

const Mode kModes[] = {{"ringfile-write", Handover::write, true},
                       {"ringfile-write-nocrc", Handover::write, false},
                       {"ringfile", Handover::claim_commit, true},
                       {"ringfile-batch", Handover::write_batch, true},
                       {"ringfile-batch-nocrc", Handover::write_batch, false}};

// Nanoseconds a record of one pass, each half.
struct PassFigures {
  double write_ns = 0;
  double read_ns = 0;
};

// Records a chunk: written, then read, before the next.
std::uint64_t chunk_records(const Options& options) {
  const std::uint64_t frame_bytes = (40 + options.record_bytes + 7) / 8 * 8;  // header, 8-byte aligned
  return std::max<std::uint64_t>(kBatchRecords, kChunkBytes / frame_bytes);
}

// Runs a pass of `options.records` records in chunks, `write(first, count)` then
// `read(first, count)` each, and returns the time of each half a record.
template <typename Write, typename Read>
PassFigures run_in_chunks(const Options& options, Write write, Read read) {
  Clock::duration writing{}, reading{};
  const std::uint64_t chunk = chunk_records(options);
  for (std::uint64_t first = 0; first < options.records; first += chunk) {
    const std::uint64_t count = std::min(chunk, options.records - first);
    const auto start = Clock::now();
    write(first, count);
    const auto written = Clock::now();
    read(first, count);
    const auto finished = Clock::now();
    writing += written - start;
    reading += finished - written;
  }
  const auto per_record = [&](Clock::duration time) {
    return std::chrono::duration<double, std::nano>(time).count() / static_cast<double>(options.records);
  };
  return {per_record(writing), per_record(reading)};
}

// What every reader does with a record: read its sequence number, so the payload is touched and
// the pass can check that every record arrived in order.
class SequenceCheck {
 public:
  void take(std::span<const std::byte> payload) noexcept {
    std::uint64_t sequence = 0;
    std::memcpy(&sequence, payload.data(), sizeof(sequence));
    in_order_ = in_order_ && sequence == next_;
    next_ += 1;
  }
  bool all(std::uint64_t records) const noexcept { return in_order_ && next_ == records; }

 private:
  std::uint64_t next_ = 0;
  bool in_order_ = true;
};

// The baseline: slots of the record's size plus a sequence word, 64-byte aligned, in one buffer
// zeroed before the passes, as a fixed-slot SPSC ring lays them out.
class SlotRing {
 public:
  explicit SlotRing(const Options& options)
      : options_(options),
        slot_bytes_((sizeof(std::uint64_t) + options.record_bytes + 63) / 64 * 64),
        slot_count_(kBufferBytes / slot_bytes_),
        slots_(new std::byte[kBufferBytes]()),
        record_(options.record_bytes) {
    std::fill(record_.bytes().begin(), record_.bytes().end(), std::byte{7});
  }

  PassFigures run_pass() {
    SequenceCheck check;
    const PassFigures figures = run_in_chunks(
        options_, [&](std::uint64_t first, std::uint64_t count) { write(first, count); },
        [&](std::uint64_t first, std::uint64_t count) { read(first, count, check); });
    if (!check.all(options_.records)) throw std::runtime_error("slot_ring: a record went missing");
    published_ += options_.records;
    return figures;
  }

 private:
  std::byte* slot(std::uint64_t sequence) const noexcept { return slots_.get() + sequence % slot_count_ * slot_bytes_; }
  static std::atomic_ref<std::uint64_t> sequence_of(std::byte* slot) noexcept {
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(slot));
  }

  void write(std::uint64_t first, std::uint64_t count) noexcept {
    for (std::uint64_t index = first; index < first + count; ++index) {
      std::byte* to = slot(published_ + index);
      std::memcpy(record_.data(), &index, sizeof(index));
      std::memcpy(to + sizeof(std::uint64_t), record_.data(), record_.size());
      // Release: publishes the copy above to the reader's acquire load in read().
      sequence_of(to).store(published_ + index + 1, std::memory_order_release);
    }
  }

  void read(std::uint64_t first, std::uint64_t count, SequenceCheck& check) const noexcept {
    for (std::uint64_t index = first; index < first + count; ++index) {
      std::byte* from = slot(published_ + index);
      // Acquire: pairs with the writer's release store of the slot's sequence.
      if (sequence_of(from).load(std::memory_order_acquire) != published_ + index + 1) return;
      check.take({from + sizeof(std::uint64_t), options_.record_bytes});
    }
  }

  const Options& options_;
  std::size_t slot_bytes_;
  std::uint64_t slot_count_;
  std::unique_ptr<std::byte[]> slots_;
  bench::SourceBuffer record_;  // what each record is copied from (see source_buffer.hpp)
  std::uint64_t published_ = 0;  // records of the passes before this one
};

// Writes the records numbered [first, first + count).
void produce(Producer& producer, const Options& options, Handover handover, std::uint64_t first, std::uint64_t count) {
  const bench::SourceBuffer source(kBatchRecords * options.record_bytes);
  const std::span<std::byte> buffer = source.bytes();
  std::fill(buffer.begin(), buffer.end(), std::byte{7});
  std::vector<std::span<const std::byte>> batch;
  constexpr auto kTimeout = std::chrono::seconds(10);
  const std::uint64_t end = first + count;
  for (std::uint64_t index = first; index < end;) {
    if (handover == Handover::write_batch) {
      batch.clear();
      for (; batch.size() < kBatchRecords && index < end; ++index) {
        std::byte* record = buffer.data() + batch.size() * options.record_bytes;
        std::memcpy(record, &index, sizeof(index));
        batch.emplace_back(record, options.record_bytes);
      }
      if (!producer.write_batch(batch, kTimeout)) throw std::runtime_error("write_batch failed");
      continue;
    }
    std::memcpy(buffer.data(), &index, sizeof(index));
    if (handover == Handover::write) {
      if (producer.write({buffer.data(), options.record_bytes}, kTimeout) != ClaimStatus::ok) {
        throw std::runtime_error("write failed");
      }
    } else {
      const ClaimResult claim = producer.claim(options.record_bytes, kTimeout);
      if (!claim) throw std::runtime_error("claim failed");
      std::memcpy(claim.buffer.data(), buffer.data(), options.record_bytes);
      if (producer.commit() != ClaimStatus::ok) throw std::runtime_error("commit failed");
    }
    ++index;
  }
}

// One mode's ring on tmpfs, big enough for a pass's records, with its producer and consumer.
// Passes run over it lap after lap, as a ring is used; the first lap, which allocates its pages,
// is run before any pass is timed (the slot ring's buffer is zeroed before its passes too).
class RingfileMode {
 public:
  RingfileMode(const Options& options, const Mode& mode)
      : options_(options), mode_(mode), path_(ring_path(mode)), ring_(create_ring(options, path_)),
        consumer_(Consumer::attach(ring_, consumer_options(mode))),
        producer_(std::make_unique<Producer>(ring_, producer_options(mode))) {
    while (ring_.head_position() < ring_.info().capacity_bytes) run_pass();
  }
  ~RingfileMode() {
    producer_.reset();
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  RingfileMode(const RingfileMode&) = delete;
  RingfileMode& operator=(const RingfileMode&) = delete;

  PassFigures run_pass() {
    SequenceCheck check;
    const PassFigures figures = run_in_chunks(
        options_,
        [&](std::uint64_t first, std::uint64_t count) { produce(*producer_, options_, mode_.handover, first, count); },
        [&](std::uint64_t, std::uint64_t count) { read(count, check); });
    if (!check.all(options_.records)) throw std::runtime_error(mode_.name + ": records out of order");
    return figures;
  }

  const std::string& name() const noexcept { return mode_.name; }

 private:
  void read(std::uint64_t count, SequenceCheck& check) {
    for (std::uint64_t read = 0; read < count;) {
      const auto take = [&](const Record& record) { check.take(record.payload); };
      const PollResult polled =
          options_.records_per_poll != 0 ? consumer_.poll(take, options_.records_per_poll) : consumer_.poll(take);
      if (polled.status != PollStatus::ok) throw std::runtime_error(mode_.name + ": " + polled.error_message);
      if (polled.records == 0) throw std::runtime_error(mode_.name + ": records went missing");
      read += polled.records;
    }
  }

  static std::filesystem::path ring_path(const Mode& mode) {
    return "/dev/shm/ringfile-bench-hot-path-" + std::to_string(::getpid()) + "-" + mode.name + ".ring";
  }
  static Ring create_ring(const Options& options, const std::filesystem::path& path) {
    std::filesystem::remove(path);
    CreateOptions create;
    create.capacity_bytes = options.ring_bytes;
    create.policy = WriterPolicy::block;
    create.max_record_bytes = static_cast<std::uint32_t>(kBatchRecords * options.record_bytes);
    return Ring::create(path, create);
  }
  static ConsumerOptions consumer_options(const Mode& mode) {
    ConsumerOptions consume;
    consume.start = StartFrom::earliest;
    consume.verify_checksums = mode.checksums;
    return consume;
  }
  static ProducerOptions producer_options(const Mode& mode) {
    ProducerOptions producing;
    producing.compute_checksums = mode.checksums;
    return producing;
  }

  const Options& options_;
  Mode mode_;
  std::filesystem::path path_;
  Ring ring_;
  Consumer consumer_;
  std::unique_ptr<Producer> producer_;
};

struct ModeFigures {
  std::string name;
  double write_ns = 0;  // medians of the passes
  double read_ns = 0;
};

int run(int argc, char** argv) {
  Options options;
  CLI::App app{"What the library's hot path costs a record in one thread (no line crosses between cores), "
               "writing and reading, against a fixed-slot ring in the same run.",
               "ringfile-bench-hot-path"};
  programs::add_size_option(app, "--record-size", options.record_bytes, "payload bytes a record (8 to 4K)")
      ->default_str("64");
  app.add_option("--records", options.records, "records a pass")->check(CLI::Range(1000, 20'000'000))->capture_default_str();
  app.add_option("--repeat", options.repeat, "passes a mode (medians quoted)")->check(CLI::Range(1, 100))->capture_default_str();
  programs::add_size_option(app, "--ring-size", options.ring_bytes,
                            "capacity of the ringfile modes' rings (64M: mapped whole; larger: a view slides over it)")
      ->default_str("64M");
  app.add_option("--cpu", options.cpu, "CPU to pin the thread to")->capture_default_str();
  std::vector<std::string> mode_names;
  for (const Mode& mode : kModes) mode_names.push_back(mode.name);
  app.add_option("--modes", options.modes, "the ringfile modes to run, comma-separated (default: all; slot_ring always runs)")
      ->delimiter(',')
      ->check(CLI::IsMember(mode_names));
  app.add_option("--records-per-poll", options.records_per_poll,
                 "the most records a poll reads (1: a poll a record, as a consumer that keeps up makes; "
                 "default: Consumer::poll's)")
      ->check(CLI::Range(1, 1'000'000));
  app.add_flag("--json", options.json, "print one JSON document instead of a table");
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;
  if (options.record_bytes < sizeof(std::uint64_t) || options.record_bytes > 4096) {
    throw programs::UsageError("--record-size: " + std::to_string(options.record_bytes) + " is not within 8 to 4K");
  }
  if (options.ring_bytes < kBufferBytes) {
    throw programs::UsageError("--ring-size: at least 64M (a chunk of records is a quarter of 64 MiB)");
  }
  if (!bench::pin_current_thread(options.cpu)) {
    throw programs::UsageError("--cpu " + std::to_string(options.cpu) + ": cannot pin to that CPU");
  }
  std::vector<Mode> modes;
  for (const Mode& mode : kModes) {
    if (options.modes.empty() || std::find(options.modes.begin(), options.modes.end(), mode.name) != options.modes.end()) {
      modes.push_back(mode);
    }
  }
  bench::RunMachine machine = bench::RunMachine::at_start();
  SlotRing slot_ring(options);
  std::vector<std::unique_ptr<RingfileMode>> rings;
  for (const Mode& mode : modes) rings.push_back(std::make_unique<RingfileMode>(options, mode));
  std::vector<ModeFigures> figures;
  // Passes alternate between the modes, so that a slower spell of a shared machine falls on all.
  std::vector<std::vector<PassFigures>> passes(modes.size() + 1);
  for (int pass = 0; pass < options.repeat; ++pass) {
    passes[0].push_back(slot_ring.run_pass());
    for (std::size_t index = 0; index < rings.size(); ++index) passes[index + 1].push_back(rings[index]->run_pass());
  }
  for (std::size_t index = 0; index < passes.size(); ++index) {
    std::vector<double> writes, reads;
    for (const PassFigures& pass : passes[index]) {
      writes.push_back(pass.write_ns);
      reads.push_back(pass.read_ns);
    }
    figures.push_back({index == 0 ? "slot_ring" : modes[index - 1].name, bench::median(writes), bench::median(reads)});
  }
  machine.finish();
  const ModeFigures& floor = figures.front();
  if (options.json) {
    programs::JsonWriter json;
    json.begin_object();
    machine.write_json_fields(json, "ringfile-bench-hot-path");
    json.field("record_bytes", static_cast<std::uint64_t>(options.record_bytes)).field("records", options.records);
    json.field("records_per_poll", options.records_per_poll);  // 0: Consumer::poll's default
    json.field("repeat", options.repeat).field("cpu", options.cpu);
    json.key("modes").begin_array();
    for (const ModeFigures& mode : figures) {
      json.begin_object().field("mode", mode.name).field("write_ns", mode.write_ns).field("read_ns", mode.read_ns);
      json.field("write_vs_slot_ring", bench::ratio(mode.write_ns, floor.write_ns));
      json.field("read_vs_slot_ring", bench::ratio(mode.read_ns, floor.read_ns)).end_object();
    }
    json.end_array().end_object();
    std::puts(json.text().c_str());
    return 0;
  }
  std::printf("ringfile-bench-hot-path: %s, kernel %s, %d CPUs, load %s; one thread on CPU %d\n",
              machine.started_at_utc.c_str(), machine.kernel_release.c_str(), machine.online_cpus,
              machine.load_at_start.c_str(), options.cpu);
  std::printf("records of %zu B, %llu a pass, medians of %d passes (ns a record; x: against slot_ring)\n",
              options.record_bytes, static_cast<unsigned long long>(options.records), options.repeat);
  if (options.records_per_poll != 0) {
    std::printf("a poll reads at most %llu records\n", static_cast<unsigned long long>(options.records_per_poll));
  }
  std::printf("%-22s %10s %8s %10s %8s\n", "mode", "write ns", "x", "read ns", "x");
  for (const ModeFigures& mode : figures) {
    std::printf("%-22s %10.1f %7.2fx %10.1f %7.2fx\n", mode.name.c_str(), mode.write_ns,
                bench::ratio(mode.write_ns, floor.write_ns), mode.read_ns, bench::ratio(mode.read_ns, floor.read_ns));
  }
  std::printf("load at the end %s\n", machine.load_at_end.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bench-hot-path", [&] { return run(argc, argv); });
}
