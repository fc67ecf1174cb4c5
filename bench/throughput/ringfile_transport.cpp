// `ringfile`: a ring file on tmpfs between two processes, zero copy. The producer claims each
// record in the mapping, copies the record in once and stamps it there, and commits; the consumer
// polls and hands ReceiveLog the record where it lies in the mapping (block policy, holding
// consumer: the bytes cannot change under the handler). The producer's copy-in is the only copy,
// where message_queue and spsc_queue copy in and out.
//
// `ringfile-nocrc` is the same with the payload CRC32C off (the library computes it on commit and
// checks it on poll by default), to show what that costs per byte.
//
// `ringfile-write` hands each record over with write(), which copies it into the mapping and
// computes its CRC32C in the same pass (claim/commit computes it on commit, after the caller's
// copy). Against `ringfile-nocrc`, whose claim, copy and commit are what write() does without a
// checksum, it shows what the checksum costs where it can ride on the copy;
// `ringfile-write-nocrc` is the same without the checksum.
//
// `ringfile-batch` hands the producer's records over kBatchRecords at a time with write_batch()
// (one reservation, claim publication, timestamp and commit for each group, which is one frame: a
// header and an 8-byte entry a record; each record still its own sequence number and checksum).
// Each record is stamped as it is put in the batch, so its latency includes the wait for the rest
// of the batch. `ringfile-batch-nocrc` is the same without the checksum: at 64 B, what the CRC32C
// costs each side against the ring of slots, which has none.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ringfile/consumer.hpp>
#include <ringfile/error.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "ringfile/format/record_header.hpp"

#include "support/cpu_pinning.hpp"
#include "support/source_buffer.hpp"
#include "throughput/fan_in.hpp"
#include "throughput/fan_out.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

// Small enough to stay in the cache hierarchy's reach like the other transports' pools, large
// enough for ~100 records of 625000 B (message_queue holds 64).
constexpr std::uint64_t kRingBytes = 64 * kMiB;
static_assert(kRingBytes == kSharedBufferBytes, "the baselines get the ring's buffer bytes");
// On tmpfs: memory, as the other transports; the paging engine resolves to `none` there.
constexpr const char* kRingDirectory = "/dev/shm";
// A dead peer must not hang the run.
constexpr std::chrono::seconds kPeerTimeout{10};
// Records per write_batch() call in `ringfile-batch`.
constexpr std::size_t kBatchRecords = 32;

enum class Handover { claim_commit, write, write_batch };

void produce_by_claims(Producer& producer, const PassConfig& config, std::uint32_t index) {
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config, index);
  const std::uint64_t records = records_of_producer(config, index);
  for (std::uint64_t sequence = 0; sequence < records; ++sequence) {
    const ClaimResult claim = producer.claim(config.record_bytes, kPeerTimeout);
    if (!claim) ::_exit(1);
    std::memcpy(claim.buffer.data(), record.data(), record.size());
    stamper.stamp(claim.buffer, sequence);
    if (producer.commit() != ClaimStatus::ok) ::_exit(1);
  }
}

void produce_by_writes(Producer& producer, const PassConfig& config, std::uint32_t index) {
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config, index);
  const std::uint64_t records = records_of_producer(config, index);
  for (std::uint64_t sequence = 0; sequence < records; ++sequence) {
    stamper.stamp(record, sequence);
    if (producer.write(record, kPeerTimeout) != ClaimStatus::ok) ::_exit(1);
  }
}

void produce_by_batches(Producer& producer, const PassConfig& config, std::uint32_t index) {
  const SourceBuffer source(kBatchRecords * config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> buffer = source.bytes();
  std::vector<std::span<const std::byte>> batch(kBatchRecords);
  for (std::size_t at = 0; at < kBatchRecords; ++at) {
    const std::span<std::byte> record{buffer.data() + at * config.record_bytes, config.record_bytes};
    fill_record(record);
    batch[at] = record;
  }
  RecordStamper stamper(config, index);
  const std::uint64_t records = records_of_producer(config, index);
  for (std::uint64_t first = 0; first < records; first += kBatchRecords) {
    const std::size_t count = std::min<std::uint64_t>(kBatchRecords, records - first);
    for (std::size_t at = 0; at < count; ++at) {
      stamper.stamp({buffer.data() + at * config.record_bytes, config.record_bytes}, first + at);
    }
    const BatchResult written = producer.write_batch(std::span(batch).first(count), kPeerTimeout);
    if (!written) ::_exit(1);
  }
}

// Exit status 2: could not pin, 1: the ring failed.
// Producer `index` of config.producers.
[[noreturn]] void run_producer_process(const std::string& path, const PassConfig& config, Handover handover,
                                       bool checksums, std::uint32_t index) {
  if (!pin_current_thread(config.producer_cpu)) ::_exit(2);
  try {
    const Ring ring = Ring::open(path);
    ProducerOptions options;
    options.compute_checksums = checksums;
    Producer producer(ring, options);
    if (handover == Handover::write_batch) {
      produce_by_batches(producer, config, index);
    } else if (handover == Handover::write) {
      produce_by_writes(producer, config, index);
    } else {
      produce_by_claims(producer, config, index);
    }
  } catch (const std::exception&) {
    ::_exit(1);
  }
  ::_exit(0);
}

// Reads config.records records from `consumer` into a ReceiveLog, waiting as the consumer's idle
// strategy says when there is nothing.
PassResult receive_all(Consumer& consumer, const PassConfig& config) {
  ReceiveLog log(config);
  const auto handle = [&log](const Record& record) { log.on_record(record.payload); };
  std::string error;
  while (log.received() < config.records) {
    const PollResult polled = consumer.poll(handle);
    if (polled.status != PollStatus::ok) {
      error = "poll: " + polled.error_message;
      break;
    }
    if (polled.records == 0 && !consumer.wait(kPeerTimeout)) {
      error = "no record for " + std::to_string(kPeerTimeout.count()) + " s: producer gone?";
      break;
    }
  }
  PassResult result = std::move(log).finish();
  result.error = error;
  return result;
}

PassResult run_ringfile_pass(const PassConfig& config, Handover handover, bool checksums = true) {
  const std::string path = std::string(kRingDirectory) + "/ringfile-bench-throughput-" +
                           std::to_string(::getpid()) + ".ring";
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  PassResult result;
  pid_t producer = -1;
  try {
    CreateOptions create;
    create.capacity_bytes = kRingBytes;
    create.policy = WriterPolicy::block;
    // A batch's records share one claim, which spans at most a maximum-size record's frame: room
    // for a whole batch of small records in one group frame (an 8-byte entry each, and the
    // padding to the next line).
    const std::size_t batch_bytes =
        kBatchRecords * (config.record_bytes + format::kGroupEntryHeaderBytes) + format::kCacheLineBytes;
    create.max_record_bytes = static_cast<std::uint32_t>(
        handover == Handover::write_batch ? std::max(config.record_bytes, batch_bytes) : config.record_bytes);
    const Ring ring = Ring::create(path, create);
    // Attached before the producer exists, so they hold every record from the first.
    ConsumerOptions consume;
    consume.start = StartFrom::earliest;
    consume.verify_checksums = checksums;
    Consumer consumer = Consumer::attach(ring, consume);
    ExtraConsumers others(config, [&](std::uint32_t, const std::function<void()>& attached) {
      Consumer other = Consumer::attach(Ring::open(path), consume);
      attached();
      return receive_all(other, config);
    });
    ExtraProducers other_producers(config, [&](std::uint32_t index) -> bool {
      run_producer_process(path, config, handover, checksums, index);
    });
    producer = ::fork();
    if (producer < 0) {
      result.error = "fork failed";
    } else if (producer == 0) {
      run_producer_process(path, config, handover, checksums, 0);
    } else {
      const SavedAffinity restore_affinity;
      const bool consumer_pinned = pin_current_thread(config.consumer_cpu);
      result = receive_all(consumer, config);
      if (result.error.empty() && !consumer_pinned) result.error = "cannot pin the consumer";
    }
    others.merge_into(result, !result.error.empty());
    const std::string producers_error = other_producers.finish(!result.error.empty());
    if (result.error.empty()) result.error = producers_error;
  } catch (const std::exception& failure) {
    result.error = std::string("ringfile: ") + failure.what();
  }
  if (producer > 0) {
    if (!result.error.empty()) ::kill(producer, SIGKILL);
    int status = 0;
    ::waitpid(producer, &status, 0);
    if (result.error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      result.error = WIFEXITED(status) && WEXITSTATUS(status) == 2 ? "cannot pin the producer"
                                                                    : "producer process failed";
    }
  }
  std::filesystem::remove(path, ignored);
  return result;
}

PassResult run_ringfile(const PassConfig& config) { return run_ringfile_pass(config, Handover::claim_commit); }
PassResult run_ringfile_without_checksum(const PassConfig& config) {
  return run_ringfile_pass(config, Handover::claim_commit, false);
}
PassResult run_ringfile_writes(const PassConfig& config) { return run_ringfile_pass(config, Handover::write); }
PassResult run_ringfile_writes_without_checksum(const PassConfig& config) {
  return run_ringfile_pass(config, Handover::write, false);
}
PassResult run_ringfile_batches(const PassConfig& config) { return run_ringfile_pass(config, Handover::write_batch); }
PassResult run_ringfile_batches_without_checksum(const PassConfig& config) {
  return run_ringfile_pass(config, Handover::write_batch, false);
}

}  // namespace

const Transport kRingfileTransport{
    .name = "ringfile",
    .summary =
        "ringfile Producer claim/commit and Consumer poll, zero copy, 64 MiB ring on /dev/shm, "
        "two processes",
    .run = run_ringfile,
    .fans_out = true,
    .fans_in = true,
};

const Transport kRingfileNocrcTransport{
    .name = "ringfile-nocrc",
    .summary = "as ringfile, without the payload CRC32C",
    .run = run_ringfile_without_checksum,
    .fans_out = true,
    .fans_in = true,
};

const Transport kRingfileWriteTransport{
    .name = "ringfile-write",
    .summary = "as ringfile, the producer handing each record over with write() (copy and CRC32C in one pass)",
    .run = run_ringfile_writes,
    .fans_out = true,
    .fans_in = true,
};

const Transport kRingfileWriteNocrcTransport{
    .name = "ringfile-write-nocrc",
    .summary = "as ringfile-write, without the payload CRC32C",
    .run = run_ringfile_writes_without_checksum,
    .fans_out = true,
    .fans_in = true,
};

const Transport kRingfileBatchTransport{
    .name = "ringfile-batch",
    .summary = "as ringfile, the producer handing records over 32 at a time with write_batch()",
    .run = run_ringfile_batches,
    .fans_out = true,
    .fans_in = true,
};

const Transport kRingfileBatchNocrcTransport{
    .name = "ringfile-batch-nocrc",
    .summary = "as ringfile-batch, without the payload CRC32C",
    .run = run_ringfile_batches_without_checksum,
    .fans_out = true,
    .fans_in = true,
};

}  // namespace ringfile::bench::throughput
