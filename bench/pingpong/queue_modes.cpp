// The queues users compare a ring with, as ping-pong baselines between the two processes, each
// way one queue (or one socket direction) with one record in flight:
//
// `spsc_queue_spin`: boost::lockfree::spsc_queue of bytes in shared memory (kQueueBytes each
// way), busy-spinning: a send pushes the record's bytes, a receive pops exactly one record's
// bytes into a buffer of its own (the queue's interface copies in and out).
//
// `message_queue`: boost::interprocess::message_queue each way; send and receive copy under the
// queue's process-shared mutex, and a receiver with nothing to take sleeps on its condition
// variable: a sleeping wait. `message_queue_spin`: the receiver busy-spins on try_receive().
//
// `unix_socket`: a Unix domain stream socket pair; a send is one send(), a receive reads until
// one record's bytes are in; the receiver sleeps in recv(): a sleeping wait in the kernel.
// `unix_socket_spin`: the receiver busy-spins on a non-blocking recv() instead.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <cerrno>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "pingpong/pingpong.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "support/spin_wait.hpp"

namespace ringfile::bench::pingpong {

namespace {

// How a receiver waits where the queue offers both.
enum class Wait { sleep, spin };

// --- spsc_queue_spin ---

// Room for the largest record (--size is at most 1 MiB) and then some; one is in flight.
constexpr std::size_t kQueueBytes = std::size_t{2} << 20;
// Storage inside the object (compile-time capacity), so the queue lives in the mapping whole and
// holds no pointer that would differ between the processes.
using ByteQueue = boost::lockfree::spsc_queue<std::byte, boost::lockfree::capacity<kQueueBytes>>;

// Pushes all of `bytes`, spinning while the queue has room for part of them only.
bool push_record(ByteQueue& queue, std::span<const std::byte> bytes) {
  SpinGuard guard;
  for (std::size_t pushed = 0; pushed < bytes.size();) {
    const std::size_t now = queue.push(bytes.data() + pushed, bytes.size() - pushed);
    pushed += now;
    if (now == 0 && !guard.keep_spinning()) return false;
  }
  return true;
}

// Pops exactly `into.size()` bytes, spinning until they are there.
bool pop_record(ByteQueue& queue, std::span<std::byte> into) {
  SpinGuard guard;
  for (std::size_t popped = 0; popped < into.size();) {
    const std::size_t now = queue.pop(into.data() + popped, into.size() - popped);
    popped += now;
    if (now == 0 && !guard.keep_spinning()) return false;
  }
  return true;
}

PingPongResult run_spsc_queue_spin(const PingPongConfig& config) {
  try {
    const system::SharedMemory mapping(2 * sizeof(ByteQueue), "the spsc_queues");
    ByteQueue& ping = *new (mapping.data()) ByteQueue;
    ByteQueue& pong = *new (mapping.data() + sizeof(ByteQueue)) ByteQueue;
    const auto echo = [&] {
      prepare_echo_memory(config, mapping);
      std::vector<std::byte> record(config.record_bytes);
      for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
        if (!pop_record(ping, record) || !carries(record, sequence)) return false;
        stamp_record(record.data(), sequence);
        if (!push_record(pong, record)) return false;
      }
      return true;
    };
    std::vector<std::byte> record(config.record_bytes, std::byte{0x5a});
    std::vector<std::byte> answer(config.record_bytes);
    const auto round_trip = [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
      stamp_record(record.data(), sequence);
      return push_record(ping, record) && pop_record(pong, answer) && carries(answer, sequence, &answer_sent_ns);
    };
    return run_ping_pong(config, echo, touching_at_first_trip(config, mapping, round_trip));
  } catch (const std::exception& failure) {
    return {std::string("spsc_queue_spin: ") + failure.what(), {}, {}};
  }
}

// --- message_queue ---

namespace bip = boost::interprocess;

// A peer that died would leave a receive blocked for ever; a timed receive notices.
constexpr long kReceiveTimeoutSeconds = 10;
// Reading the wall clock for a deadline costs as much as a hand-off; renew it every so many
// round trips (each well under a millisecond) instead.
constexpr std::uint64_t kDeadlineRenewTrips = 1024;

class MessageQueueEnd {
 public:
  explicit MessageQueueEnd(bip::message_queue& queue, std::size_t record_bytes)
      : queue_(queue), record_(record_bytes) {}

  // The record to send (stamped by send) or the one received.
  std::span<std::byte> record() noexcept { return record_; }

  void send(std::uint64_t sequence) {
    stamp_record(record_.data(), sequence);
    queue_.send(record_.data(), record_.size(), 0);
  }

  // Waits for the next record, asleep in the queue or spinning on try_receive(); true when it
  // has the record's size and carries `sequence`, whose send stamp then goes to `*sent_ns`.
  bool receive(std::uint64_t sequence, Wait wait, std::uint64_t* sent_ns = nullptr) {
    bip::message_queue::size_type received_bytes = 0;
    unsigned int priority = 0;
    if (wait == Wait::spin) {
      SpinGuard guard;
      while (!queue_.try_receive(record_.data(), record_.size(), received_bytes, priority)) {
        if (!guard.keep_spinning()) return false;
      }
    } else {
      if (sequence % kDeadlineRenewTrips == 0) {
        deadline_ = boost::posix_time::microsec_clock::universal_time() +
                    boost::posix_time::seconds(kReceiveTimeoutSeconds);
      }
      if (!queue_.timed_receive(record_.data(), record_.size(), received_bytes, priority, deadline_)) return false;
    }
    return received_bytes == record_.size() && carries(record_, sequence, sent_ns);
  }

 private:
  bip::message_queue& queue_;
  std::vector<std::byte> record_;
  boost::posix_time::ptime deadline_;
};

// Removes the named queue when created and when done, so that a crashed run leaves nothing in
// /dev/shm for the next one to trip over.
class NamedQueue {
 public:
  NamedQueue(std::string name, std::size_t record_bytes)
      : name_(without_stale_queue(std::move(name))), queue_(bip::create_only, name_.c_str(), 1, record_bytes) {}
  ~NamedQueue() { bip::message_queue::remove(name_.c_str()); }
  NamedQueue(const NamedQueue&) = delete;
  NamedQueue& operator=(const NamedQueue&) = delete;

  bip::message_queue& queue() noexcept { return queue_; }

 private:
  static std::string without_stale_queue(std::string name) {
    bip::message_queue::remove(name.c_str());
    return name;
  }

  std::string name_;
  bip::message_queue queue_;
};

PingPongResult run_message_queue(const PingPongConfig& config, Wait wait, const char* name) {
  try {
    // Created before the fork: the child keeps the shared mappings, and the queues' mutexes and
    // condition variables are process-shared.
    const std::string stem = "ringfile-bench-pingpong-mq-" + std::to_string(::getpid());
    NamedQueue ping(stem + "-ping", config.record_bytes);
    NamedQueue pong(stem + "-pong", config.record_bytes);
    const auto echo = [&] {
      MessageQueueEnd from(ping.queue(), config.record_bytes);
      MessageQueueEnd to(pong.queue(), config.record_bytes);
      for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
        if (!from.receive(sequence, wait)) return false;
        std::memcpy(to.record().data(), from.record().data(), config.record_bytes);
        to.send(sequence);
      }
      return true;
    };
    MessageQueueEnd to(ping.queue(), config.record_bytes);
    MessageQueueEnd from(pong.queue(), config.record_bytes);
    std::memset(to.record().data(), 0x5a, config.record_bytes);
    return run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
      to.send(sequence);
      return from.receive(sequence, wait, &answer_sent_ns);
    });
  } catch (const std::exception& failure) {
    return {std::string(name) + ": " + failure.what(), {}, {}};
  }
}

PingPongResult run_message_queue_sleep(const PingPongConfig& config) {
  return run_message_queue(config, Wait::sleep, "message_queue");
}
PingPongResult run_message_queue_spin(const PingPongConfig& config) {
  return run_message_queue(config, Wait::spin, "message_queue_spin");
}

// --- unix_socket ---

bool send_record(int socket, std::span<const std::byte> record) {
  for (std::size_t sent = 0; sent < record.size();) {
    const ssize_t now = ::send(socket, record.data() + sent, record.size() - sent, MSG_NOSIGNAL);
    if (now < 0 && errno == EINTR) continue;
    if (now <= 0) return false;
    sent += static_cast<std::size_t>(now);
  }
  return true;
}

// Reads exactly one record's bytes, asleep in recv() or spinning on a non-blocking one; false on
// end of stream, an error or the peer timeout.
bool receive_record(int socket, std::span<std::byte> into, Wait wait) {
  SpinGuard guard;
  for (std::size_t received = 0; received < into.size();) {
    const ssize_t now = ::recv(socket, into.data() + received, into.size() - received,
                               wait == Wait::spin ? MSG_DONTWAIT : 0);
    if (now < 0 && errno == EINTR) continue;
    if (now < 0 && wait == Wait::spin && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!guard.keep_spinning()) return false;
      continue;
    }
    if (now <= 0) return false;
    received += static_cast<std::size_t>(now);
  }
  return true;
}

PingPongResult run_unix_socket(const PingPongConfig& config, Wait wait, const char* name) {
  int fds[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    return {std::string(name) + ": socketpair: " + std::strerror(errno), {}, {}};
  }
  const system::FileDescriptor initiator_end(fds[0]);
  const system::FileDescriptor echo_end(fds[1]);
  // A dead peer must not hang the run: a receive gives up after the peer timeout.
  const timeval timeout{static_cast<time_t>(kPeerTimeoutNs / 1'000'000'000), 0};
  for (const int socket : fds) ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const auto echo = [&] {
    std::vector<std::byte> record(config.record_bytes);
    for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
      if (!receive_record(echo_end.get(), record, wait) || !carries(record, sequence)) return false;
      stamp_record(record.data(), sequence);
      if (!send_record(echo_end.get(), record)) return false;
    }
    return true;
  };
  std::vector<std::byte> record(config.record_bytes, std::byte{0x5a});
  std::vector<std::byte> answer(config.record_bytes);
  return run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
    stamp_record(record.data(), sequence);
    return send_record(initiator_end.get(), record) && receive_record(initiator_end.get(), answer, wait) &&
           carries(answer, sequence, &answer_sent_ns);
  });
}

PingPongResult run_unix_socket_sleep(const PingPongConfig& config) {
  return run_unix_socket(config, Wait::sleep, "unix_socket");
}
PingPongResult run_unix_socket_spin(const PingPongConfig& config) {
  return run_unix_socket(config, Wait::spin, "unix_socket_spin");
}

}  // namespace

const PingPongMode kSpscQueueSpinMode{
    "spsc_queue_spin",
    "boost::lockfree::spsc_queue of bytes each way in shared memory, copy in and out, busy spin",
    run_spsc_queue_spin,
};

const PingPongMode kMessageQueueMode{
    "message_queue",
    "boost::interprocess::message_queue each way, blocking send and timed receive (sleeping wait)",
    run_message_queue_sleep,
};

const PingPongMode kMessageQueueSpinMode{
    "message_queue_spin",
    "as message_queue, the receiver busy-spinning on try_receive()",
    run_message_queue_spin,
};

const PingPongMode kUnixSocketMode{
    "unix_socket",
    "a Unix domain stream socket pair, send() and a blocking recv() (sleeping wait in the kernel)",
    run_unix_socket_sleep,
};

const PingPongMode kUnixSocketSpinMode{
    "unix_socket_spin",
    "as unix_socket, the receiver busy-spinning on a non-blocking recv()",
    run_unix_socket_spin,
};

}  // namespace ringfile::bench::pingpong
