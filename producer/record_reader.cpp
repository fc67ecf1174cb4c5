#include "record_reader.hpp"

#include <cstring>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::producer {
namespace {

// Short enough that --duration and stop signals are noticed promptly on a silent input.
constexpr std::chrono::milliseconds kReadWait{100};
constexpr std::size_t kFrameLengthBytes = 4;

}  // namespace

RecordReader::RecordReader(programs::InputStream& input, std::string input_name, programs::RecordFormat format,
                           std::size_t raw_record_bytes, std::size_t max_record_bytes)
    : input_(input),
      input_name_(std::move(input_name)),
      format_(format),
      raw_record_bytes_(raw_record_bytes),
      max_record_bytes_(max_record_bytes) {}

RecordReader::Status RecordReader::next(std::span<const std::byte>& record) {
  switch (format_) {
    case programs::RecordFormat::lines: return next_line(record);
    case programs::RecordFormat::raw: return next_raw(record);
    case programs::RecordFormat::frames: return next_frame(record);
  }
  return Status::end;
}

bool RecordReader::read_more(Status& status, bool& at_end) {
  switch (input_.fill(kReadWait)) {
    case programs::InputStream::Status::ok: return true;
    case programs::InputStream::Status::waiting: status = Status::waiting; return false;
    case programs::InputStream::Status::end: at_end = true; return false;
    case programs::InputStream::Status::error:
      throw programs::RuntimeFailure("reading " + input_name_ + " failed: " + std::strerror(input_.error_number()));
  }
  return false;
}

void RecordReader::too_large(std::uint64_t bytes, bool whole) const {
  throw programs::RuntimeFailure(
      "record " + std::to_string(records_ + 1) + " of " + input_name_ + " is " + (whole ? "" : "at least ") +
      programs::format_bytes_beside(bytes, max_record_bytes_) + ", more than the ring's largest record (" +
      programs::format_bytes_exact(max_record_bytes_) +
      "); create the ring with a larger --max-record, or split the input differently");
}

// Hands out `bytes` as the next record, `consumed` input bytes used up (payload plus framing).
RecordReader::Status RecordReader::hand_out(std::span<const std::byte>& record, std::span<const std::byte> bytes,
                                            std::size_t consumed) {
  record = bytes;
  input_.consume(consumed);
  scanned_ = 0;
  ++records_;
  return Status::record;
}

RecordReader::Status RecordReader::next_line(std::span<const std::byte>& record) {
  for (;;) {
    const auto bytes = input_.available();
    const void* newline = std::memchr(bytes.data() + scanned_, '\n', bytes.size() - scanned_);
    if (newline != nullptr) {
      const auto length = static_cast<std::size_t>(static_cast<const std::byte*>(newline) - bytes.data());
      if (length > max_record_bytes_) too_large(length);
      return hand_out(record, bytes.first(length), length + 1);
    }
    scanned_ = bytes.size();
    // Fail as soon as the line is too long, rather than buffering all of a runaway line: how
    // long it is in all is not known yet.
    if (bytes.size() > max_record_bytes_) too_large(bytes.size(), false);
    Status status = Status::waiting;
    bool at_end = false;
    if (read_more(status, at_end)) continue;
    if (!at_end) return status;
    const auto rest = input_.available();
    if (rest.empty()) return Status::end;
    // A last line without its newline is still a record.
    return hand_out(record, rest, rest.size());
  }
}

RecordReader::Status RecordReader::next_raw(std::span<const std::byte>& record) {
  for (;;) {
    const auto bytes = input_.available();
    if (bytes.size() >= raw_record_bytes_) {
      return hand_out(record, bytes.first(raw_record_bytes_), raw_record_bytes_);
    }
    Status status = Status::waiting;
    bool at_end = false;
    if (read_more(status, at_end)) continue;
    if (!at_end) return status;
    if (bytes.empty()) return Status::end;
    const auto last = input_.available();  // the shorter last chunk
    return hand_out(record, last, last.size());
  }
}

RecordReader::Status RecordReader::next_frame(std::span<const std::byte>& record) {
  for (;;) {
    const auto bytes = input_.available();
    if (bytes.size() >= kFrameLengthBytes) {
      const auto* length_bytes = reinterpret_cast<const unsigned char*>(bytes.data());
      const std::uint64_t length = std::uint64_t{length_bytes[0]} | std::uint64_t{length_bytes[1]} << 8 |
                                   std::uint64_t{length_bytes[2]} << 16 | std::uint64_t{length_bytes[3]} << 24;
      if (length > max_record_bytes_) too_large(length);
      if (bytes.size() >= kFrameLengthBytes + length) {
        return hand_out(record, bytes.subspan(kFrameLengthBytes, length), kFrameLengthBytes + length);
      }
    }
    Status status = Status::waiting;
    bool at_end = false;
    if (read_more(status, at_end)) continue;
    if (!at_end) return status;
    if (bytes.empty()) return Status::end;
    throw programs::RuntimeFailure(input_name_ + " ends inside frame " + std::to_string(records_ + 1) + " (" +
                                   std::to_string(bytes.size()) +
                                   " bytes left over); frames are a 4-byte little-endian length, then that many bytes");
  }
}

}  // namespace ringfile::producer
