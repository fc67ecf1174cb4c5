// `unix_socket`: a Unix domain stream socket pair between two processes, the kernel's IPC. The
// producer sends each record with one send() (looping on a short one); the consumer reads as much
// as has arrived into a 64 KiB buffer and hands every whole record to ReceiveLog, keeping a
// partial one for the next read. Records have a fixed size, so that size is the framing.
// Both ends block in the kernel when there is nothing to do. Socket buffers are asked for
// kSharedBufferBytes; the kernel caps them at net.core.wmem_max / rmem_max.
//
// Stream rather than SOCK_SEQPACKET: on Linux a Unix SEQPACKET socket queues at most
// net.unix.max_dgram_qlen (10 by default) messages, a cap on records in flight.
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "support/source_buffer.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

constexpr std::size_t kReceiveBufferBytes = 64 * 1024;

bool produce(const PassConfig& config, int socket) {
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config);
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    stamper.stamp(record, sequence);
    std::size_t sent = 0;
    while (sent < record.size()) {
      const ssize_t now = ::send(socket, record.data() + sent, record.size() - sent, 0);
      if (now < 0 && errno == EINTR) continue;
      if (now <= 0) return false;
      sent += static_cast<std::size_t>(now);
    }
  }
  return true;
}

PassResult consume(const PassConfig& config, int socket) {
  ReceiveLog log(config);
  std::vector<std::byte> buffer(std::max(kReceiveBufferBytes, 2 * config.record_bytes));
  std::size_t filled = 0;  // bytes in buffer, a partial record at most once records are handed on
  std::string error;
  while (log.received() < config.records) {
    const ssize_t now = ::recv(socket, buffer.data() + filled, buffer.size() - filled, 0);
    if (now < 0 && errno == EINTR) continue;
    if (now <= 0) {
      error = now == 0 ? "producer closed the socket early"
                       : (errno == EAGAIN ? "no record for 10 s: producer gone?"
                                          : system::describe_errno("recv", errno));
      break;
    }
    filled += static_cast<std::size_t>(now);
    std::size_t offset = 0;
    for (; filled - offset >= config.record_bytes; offset += config.record_bytes) {
      log.on_record(std::span<const std::byte>(buffer.data() + offset, config.record_bytes));
    }
    std::memmove(buffer.data(), buffer.data() + offset, filled - offset);
    filled -= offset;
  }
  PassResult result = std::move(log).finish();
  result.error = error;
  return result;
}

void ask_for_buffers(int socket) {
  const int bytes = static_cast<int>(kSharedBufferBytes);
  // Best effort: the kernel caps the sizes silently.
  ::setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  ::setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

PassResult run_unix_socket(const PassConfig& config) {
  try {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
      throw programs::RuntimeFailure(system::describe_errno("socketpair", errno));
    }
    system::FileDescriptor producer_end(fds[0]);
    const system::FileDescriptor consumer_end(fds[1]);
    ask_for_buffers(producer_end.get());
    ask_for_buffers(consumer_end.get());
    const timeval timeout{static_cast<time_t>(kPeerTimeoutNs / 1'000'000'000), 0};
    ::setsockopt(consumer_end.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    return run_in_two_processes(
        config, [&] { return produce(config, producer_end.get()); },
        [&] {
          // The consumer's copy of the producer's end, closed so that a dead producer shows as
          // end of stream.
          producer_end.reset();
          return consume(config, consumer_end.get());
        });
  } catch (const std::exception& failure) {
    PassResult failed;
    failed.error = std::string("unix_socket: ") + failure.what();
    return failed;
  }
}

}  // namespace

const Transport kUnixSocketTransport{
    .name = "unix_socket",
    .summary =
        "Unix domain stream socket pair, one send() per record, reads of up to 64 KiB, "
        "two processes",
    .run = run_unix_socket,
};

}  // namespace ringfile::bench::throughput
