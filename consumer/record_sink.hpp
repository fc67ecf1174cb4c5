// Where a consumer's records go: an output stream, in one of the output formats or through a
// --show template.
#pragma once

#include <optional>
#include <string>

#include "consumer_settings.hpp"
#include "record_formats.hpp"
#include "ringfile/programs/byte_streams.hpp"

namespace ringfile::consumer {

class RecordSink {
 public:
  // "-" is stdout. Throws RuntimeFailure when the file cannot be opened.
  RecordSink(const std::string& output, bool append, OutputFormat format, const std::string& show_template);

  // Buffers one record. Never throws; a failure shows in flush().
  void write(const Record& record) noexcept;
  // Writes out what is buffered; throws RuntimeFailure naming the output and the error.
  void flush();

 private:
  void write_bytes(std::string_view bytes) noexcept;

  std::string output_name_;
  programs::FileDescriptor file_;
  programs::OutputStream stream_;
  OutputFormat format_;
  std::optional<ShowTemplate> show_;
  std::string text_;  // one record formatted as text, reused
};

}  // namespace ringfile::consumer
