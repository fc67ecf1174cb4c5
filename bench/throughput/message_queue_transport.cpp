// `message_queue`: boost::interprocess::message_queue between two processes, the IPC queue users
// reach for first. Each send copies the record into shared memory under the queue's mutex and
// each receive copies it out; both block on the queue's condition variables.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <vector>

#include "support/cpu_pinning.hpp"
#include "support/source_buffer.hpp"
#include "throughput/fan_in.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

namespace {

namespace bip = boost::interprocess;

// A producer that died would leave receive() blocked for ever; a timed receive notices.
constexpr long kReceiveTimeoutSeconds = 10;
// Taking the wall clock for the deadline costs; renew it every so many records instead.
constexpr std::uint64_t kDeadlineRenewRecords = 1024;

// Exit status 2: could not pin, 1: the queue failed.
// Producer `index` of config.producers.
[[noreturn]] void run_producer_process(const std::string& queue_name, const PassConfig& config, std::uint32_t index) {
  if (!pin_current_thread(config.producer_cpu)) ::_exit(2);
  try {
    bip::message_queue queue(bip::open_only, queue_name.c_str());
    const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
    const std::span<std::byte> record = source.bytes();
    fill_record(record);
    RecordStamper stamper(config, index);
    const std::uint64_t records = records_of_producer(config, index);
    for (std::uint64_t sequence = 0; sequence < records; ++sequence) {
      stamper.stamp(record, sequence);
      queue.send(record.data(), record.size(), 0);
    }
  } catch (const std::exception&) {
    ::_exit(1);
  }
  ::_exit(0);
}

PassResult run_message_queue(const PassConfig& config) {
  const std::string queue_name = "ringfile-bench-mq-" + std::to_string(::getpid());
  bip::message_queue::remove(queue_name.c_str());
  PassResult result;
  pid_t producer = -1;
  try {
    bip::message_queue queue(bip::create_only, queue_name.c_str(), config.queue_depth,
                             config.record_bytes);
    ExtraProducers other_producers(config, [&](std::uint32_t index) -> bool {
      run_producer_process(queue_name, config, index);
    });
    producer = ::fork();
    if (producer < 0) {
      result.error = "fork failed";
    } else if (producer == 0) {
      run_producer_process(queue_name, config, 0);
    } else {
      const SavedAffinity restore_affinity;
      const bool consumer_pinned = pin_current_thread(config.consumer_cpu);
      ReceiveLog log(config);
      std::vector<std::byte> record(config.record_bytes);
      boost::posix_time::ptime deadline;
      for (std::uint64_t index = 0; index < config.records; ++index) {
        if (index % kDeadlineRenewRecords == 0) {
          deadline = boost::posix_time::microsec_clock::universal_time() +
                     boost::posix_time::seconds(kReceiveTimeoutSeconds);
        }
        bip::message_queue::size_type received_bytes = 0;
        unsigned int priority = 0;
        if (!queue.timed_receive(record.data(), record.size(), received_bytes, priority,
                                 deadline)) {
          result.error =
              "no record for " + std::to_string(kReceiveTimeoutSeconds) + " s: producer gone?";
          break;
        }
        log.on_record(std::span<const std::byte>(record.data(), received_bytes));
      }
      const std::string error =
          !result.error.empty() || consumer_pinned ? result.error : "cannot pin the consumer";
      result = std::move(log).finish();
      result.error = error;
    }
    const std::string producers_error = other_producers.finish(!result.error.empty());
    if (result.error.empty()) result.error = producers_error;
  } catch (const std::exception& failure) {
    result.error = std::string("message_queue: ") + failure.what();
  }
  if (producer > 0) {
    if (!result.error.empty()) ::kill(producer, SIGKILL);
    int status = 0;
    ::waitpid(producer, &status, 0);
    if (result.error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      result.error = "producer process failed";
    }
  }
  bip::message_queue::remove(queue_name.c_str());
  return result;
}

}  // namespace

const Transport kMessageQueueTransport{
    .name = "message_queue",
    .summary = "boost::interprocess::message_queue, producer and consumer in two processes",
    .run = run_message_queue,
    .fans_in = true,
};

}  // namespace ringfile::bench::throughput
