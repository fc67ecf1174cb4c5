// Where a consumer's records go: an output stream in one of the record formats.
#pragma once

#include <span>
#include <string>

#include "ringfile/programs/byte_streams.hpp"
#include "ringfile/programs/record_format.hpp"

namespace ringfile::consumer {

class RecordSink {
 public:
  // "-" is stdout. Throws RuntimeFailure when the file cannot be opened.
  RecordSink(const std::string& output, bool append, programs::RecordFormat format);

  // Buffers one record in the output format. Never throws; a failure shows in flush().
  void write(std::span<const std::byte> payload) noexcept;
  // Writes out what is buffered; throws RuntimeFailure naming the output and the error.
  void flush();

 private:
  std::string output_name_;
  programs::FileDescriptor file_;
  programs::OutputStream stream_;
  programs::RecordFormat format_;
};

}  // namespace ringfile::consumer
