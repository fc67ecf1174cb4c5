// `iceoryx`: Eclipse iceoryx 2.0 (Debian's libiceoryx-posh-dev), zero-copy publish/subscribe
// between two processes through the shared memory its daemon RouDi manages: the producer loans a
// chunk, writes the record into it and publishes it; the consumer takes it and releases it.
// Built only where the package is installed; each pass starts its own `iox-roudi` (Debian's
// iceoryx package) and stops it, and fails with a message when there is none.
//
// The subscriber's queue holds 256 chunks, iceoryx's build-time maximum (--queue-depth does not
// apply); both sides wait rather than drop (WAIT_FOR_CONSUMER, BLOCK_PRODUCER). An iceoryx
// runtime can be set up once per process, so each pass runs in a process of its own (the
// consumer), which forks the producer and sends its result back.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "support/forked_pair.hpp"
#include "support/iceoryx_runtime.hpp"
#include "support/roudi_process.hpp"
#include "support/spin_wait.hpp"
#include "support/source_buffer.hpp"
#include "throughput/pass_report.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

constexpr std::uint64_t kMaxQueuedChunks = 256;  // MAX_SUBSCRIBER_QUEUE_CAPACITY of Debian's build

iox::capro::ServiceDescription service() { return {"ringfile-bench", "throughput", "records"}; }

bool produce(const PassConfig& config) {
  init_iceoryx_runtime("producer");
  iox::popo::PublisherOptions options;
  options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  iox::popo::UntypedPublisher publisher(service(), options);
  // Records sent before the subscription is in place would go nowhere (no history is kept).
  SpinGuard guard;
  while (!publisher.hasSubscribers()) {
    if (!guard.keep_spinning()) return false;
  }
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config);
  const auto bytes = static_cast<std::uint32_t>(config.record_bytes);
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    void* chunk = nullptr;
    guard.reset();
    for (;;) {
      auto loaned = publisher.loan(bytes);
      if (!loaned.has_error()) {
        chunk = loaned.value();
        break;
      }
      if (!guard.keep_spinning()) return false;  // the memory pool stayed empty
    }
    const std::span<std::byte> slot(static_cast<std::byte*>(chunk), record.size());
    std::memcpy(slot.data(), record.data(), record.size());
    stamper.stamp(slot, sequence);
    publisher.publish(chunk);
  }
  return true;
}

PassResult consume(const PassConfig& config) {
  init_iceoryx_runtime("consumer");
  iox::popo::SubscriberOptions options;
  options.queueCapacity = kMaxQueuedChunks;  // the nearest it comes to the others' 64 MiB
  options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  iox::popo::UntypedSubscriber subscriber(service(), options);
  ReceiveLog log(config);
  SpinGuard guard;
  while (log.received() < config.records) {
    auto taken = subscriber.take();
    if (taken.has_error()) {
      if (!guard.keep_spinning()) return std::move(log).producer_gone();
      continue;
    }
    guard.reset();
    const void* chunk = taken.value();
    const auto* header = iox::mepoo::ChunkHeader::fromUserPayload(chunk);
    log.on_record({static_cast<const std::byte*>(chunk), header->userPayloadSize()});
    subscriber.release(chunk);
  }
  return std::move(log).finish();
}

PassResult run_iceoryx(const PassConfig& config) {
  PassResult failed;
  const RoudiProcess roudi;
  if (!roudi.error().empty()) {
    failed.error = roudi.error();
    return failed;
  }
  std::optional<ChildReport> report = run_in_child_process([&] {
    return report_of(run_in_two_processes(config, [&] { return produce(config); }, [&] { return consume(config); }));
  });
  if (!report) {
    failed.error = "the pass's process ended without a result";
    return failed;
  }
  return result_of(std::move(*report));
}

}  // namespace

const Transport kIceoryxTransport{
    .name = "iceoryx",
    .summary =
        "Eclipse iceoryx 2.0: loan, publish, take, release; zero copy through RouDi's shared memory, "
        "two busy processes, at most 256 queued",
    .run = run_iceoryx,
};

}  // namespace ringfile::bench::throughput
