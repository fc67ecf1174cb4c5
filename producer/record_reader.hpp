// Cuts a producer's input into records: lines, raw chunks or length-prefixed frames.
// Records are handed out as spans into the input buffer, not copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ringfile/programs/byte_streams.hpp"
#include "ringfile/programs/record_format.hpp"

namespace ringfile::producer {

class RecordReader {
 public:
  enum class Status {
    record,   // `record` holds the next record
    end,      // the input is exhausted
    waiting,  // no complete record yet: look at the stop conditions, then call again
  };

  // `input_name` names the input in error messages; `raw_record_bytes` is the --format raw chunk.
  RecordReader(programs::InputStream& input, std::string input_name, programs::RecordFormat format,
               std::size_t raw_record_bytes, std::size_t max_record_bytes);

  // Throws RuntimeFailure for input that cannot be cut into records: a record larger than the
  // ring allows, a frame cut short, a read error. The span is valid until the next call.
  Status next(std::span<const std::byte>& record);

 private:
  Status next_line(std::span<const std::byte>& record);
  Status next_raw(std::span<const std::byte>& record);
  Status next_frame(std::span<const std::byte>& record);
  Status hand_out(std::span<const std::byte>& record, std::span<const std::byte> bytes, std::size_t consumed);
  // Reads more input; false with `status` set when there is nothing more to read now.
  bool read_more(Status& status, bool& at_end);
  // `whole`: `bytes` is the record's length; else as much of it as was read.
  [[noreturn]] void too_large(std::uint64_t bytes, bool whole = true) const;

  programs::InputStream& input_;
  std::string input_name_;
  programs::RecordFormat format_;
  std::size_t raw_record_bytes_;
  std::size_t max_record_bytes_;
  std::size_t scanned_ = 0;  // lines: bytes already searched for a newline
  std::uint64_t records_ = 0;
};

}  // namespace ringfile::producer
