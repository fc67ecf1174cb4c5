// Where a consumer's records go: an output stream, in one of the output formats or through a
// --show template.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "consumer_settings.hpp"
#include "output_resume_point.hpp"
#include "record_formats.hpp"
#include "ringfile/programs/byte_streams.hpp"

namespace ringfile::consumer {

class RecordSink {
 public:
  // "-" is stdout. Throws RuntimeFailure when the file cannot be opened, or is `ring`, the file
  // being read. With `resume_owner` (a holding named consumer's) a regular file appended to keeps
  // the point its commits reach (output_resume_point.hpp); a file replaced loses any such point.
  RecordSink(const std::string& output, bool append, OutputFormat format, const std::string& show_template,
             const Ring* ring, std::optional<ResumeOwner> resume_owner = std::nullopt);

  // Once attached at `cursor`, before anything is written: cuts the file back to where the saved
  // cursor left it, where the last run was killed after writing records past it. Returns the
  // bytes cut off. Throws RuntimeFailure when cutting fails.
  std::uint64_t resume_at(std::uint64_t cursor);
  // After the cursor was committed at `cursor`, everything before it written out: records the
  // point on the file (its size measured now). A file system that keeps no such record is said
  // once (warning).
  void note_committed(std::uint64_t cursor);
  // After the last commit of a run that ended cleanly: the point goes (nothing is to be cut).
  void finish() noexcept;

  // Buffers one record. Never throws; a failure shows in flush().
  void write(const Record& record) noexcept;
  // Writes out what is buffered; throws RuntimeFailure naming the output and the error. A
  // regular file is then cut back to where the last flush that succeeded left it: a write the
  // disk could not take whole (ENOSPC) left part of a record there, and records after the
  // consumer's cursor, which the next run of a named consumer appends again.
  void flush();

  // --format lines, not to a terminal: records that held a newline, each written as more lines
  // than one (a reader of the lines cannot tell where such a record ends).
  std::uint64_t records_split_over_lines() const noexcept { return records_split_over_lines_; }

 private:
  void write_bytes(std::string_view bytes) noexcept;
  std::optional<std::uint64_t> file_size() const noexcept;

  std::string output_name_;
  programs::FileDescriptor file_;
  programs::OutputStream stream_;
  // A regular file's size when opened, and after the last flush that succeeded; not a regular
  // file (a pipe, a terminal): nothing is cut back.
  std::optional<std::uint64_t> opened_size_;
  std::uint64_t flushed_size_ = 0;
  // A holding named consumer's --output FILE, appended to, while the file system keeps the point.
  std::optional<OutputResumeAttribute> resume_;
  OutputFormat format_;
  // --format lines to a terminal: each record on one line, escaped as %e does, so that bytes a
  // producer wrote cannot drive the terminal (colours, its title, clearing the screen).
  bool escape_lines_ = false;
  std::uint64_t records_split_over_lines_ = 0;
  std::optional<ShowTemplate> show_;
  std::string text_;  // one record formatted as text, reused
};

}  // namespace ringfile::consumer
