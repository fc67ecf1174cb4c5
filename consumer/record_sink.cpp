#include "record_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"

namespace ringfile::consumer {

RecordSink::RecordSink(const std::string& output, bool append, OutputFormat format, const std::string& show_template,
                       const Ring* ring, std::optional<ResumeOwner> resume_owner)
    : output_name_(output == "-" ? "stdout" : "'" + output + "'"),
      file_(programs::open_output(output, append, ring)),
      stream_(file_.get()),
      format_(format),
      escape_lines_(format == OutputFormat::lines && programs::is_terminal(file_.get())) {
  if (!show_template.empty()) show_.emplace(show_template);
  struct stat status {};
  if (::fstat(file_.get(), &status) == 0 && S_ISREG(status.st_mode)) {
    opened_size_ = static_cast<std::uint64_t>(status.st_size);
    flushed_size_ = *opened_size_;
    // Replaced, the file starts anew, whoever replaces it: an earlier run's point would cut what
    // this run writes. (Best effort: where it cannot be removed, no point is read back either.)
    if (!append) (void)OutputResumeAttribute(file_.get(), {}).remove();
    if (resume_owner && append && output != "-") resume_.emplace(file_.get(), std::move(*resume_owner));
  }
}

std::optional<std::uint64_t> RecordSink::file_size() const noexcept {
  struct stat status {};
  if (::fstat(file_.get(), &status) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(status.st_size);
}

std::uint64_t RecordSink::resume_at(std::uint64_t cursor) {
  if (!resume_) return 0;
  // Measured now, after the attach: another process may have written since the open (the last
  // run of this consumer, stopping as this one started), and a size this run worked out would
  // cut those records (found in review).
  const std::optional<std::uint64_t> size = file_size();
  if (!size) return 0;
  const std::optional<std::uint64_t> keep = bytes_to_keep(resume_->load(), cursor, *size);
  if (keep && ::ftruncate(file_.get(), static_cast<off_t>(*keep)) != 0) {
    throw programs::RuntimeFailure("cutting " + output_name_ + " back to where the saved cursor left it failed: " +
                                   std::strerror(errno));
  }
  opened_size_ = keep.value_or(*size) - stream_.written_bytes();
  flushed_size_ = keep.value_or(*size);
  // The point at once: killed before its first commit, this run leaves the file to be cut here.
  note_committed(cursor);
  return *size - flushed_size_;
}

void RecordSink::finish() noexcept {
  // Ended cleanly, every record written out and its cursor committed: nothing is to be cut, and
  // bytes others append after this run (a script's marker) must not be either.
  if (resume_ && resume_->remove()) resume_.reset();
}

void RecordSink::note_committed(std::uint64_t cursor) {
  if (!resume_) return;
  const std::optional<std::uint64_t> size = file_size();
  if (size && resume_->store({cursor, *size})) return;
  const int error = errno;
  resume_.reset();
  programs::report_error("warning: cannot keep the committed cursor's place on " + output_name_ + " (" +
                         std::strerror(error) +
                         "): should this consumer be killed (SIGKILL) between writing records out and "
                         "committing them, its next run writes those records again");
}

void RecordSink::write_bytes(std::string_view bytes) noexcept {
  stream_.write({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
}

void RecordSink::write(const Record& record) noexcept {
  try {
    if (show_) {
      text_.clear();
      show_->append(text_, record);
      write_bytes(text_);
      return;
    }
    switch (format_) {
      case OutputFormat::lines: {
        if (escape_lines_) {
          text_.clear();
          append_escaped(text_, record.payload);
          text_ += '\n';
          write_bytes(text_);
          break;
        }
        const auto* bytes = reinterpret_cast<const char*>(record.payload.data());
        if (std::memchr(bytes, '\n', record.payload.size()) != nullptr) ++records_split_over_lines_;
        stream_.write(record.payload);
        write_bytes("\n");
        break;
      }
      case OutputFormat::raw:
        stream_.write(record.payload);
        break;
      case OutputFormat::frames: {
        const auto length = static_cast<std::uint32_t>(record.payload.size());
        const std::byte prefix[4] = {std::byte(length & 0xff), std::byte(length >> 8 & 0xff),
                                     std::byte(length >> 16 & 0xff), std::byte(length >> 24 & 0xff)};
        stream_.write(prefix);
        stream_.write(record.payload);
        break;
      }
      case OutputFormat::jsonl:
        text_.clear();
        append_jsonl(text_, record);
        write_bytes(text_);
        break;
      case OutputFormat::hex:
        text_.clear();
        append_hex_dump(text_, record);
        write_bytes(text_);
        break;
    }
  } catch (const std::bad_alloc&) {
    // Formatting one record ran out of memory: reported as an error of the output.
    stream_.fail(ENOMEM);
  }
}

void RecordSink::flush() {
  if (stream_.flush()) {
    if (opened_size_) flushed_size_ = *opened_size_ + stream_.written_bytes();
    return;
  }
  const int error = stream_.error_number();
  if (error == EPIPE) {
    throw programs::RuntimeFailure("the reader of " + output_name_ +
                                   " went away; the cursor stays after the last records written out");
  }
  std::string cut;
  if (opened_size_) {
    cut = ::ftruncate(file_.get(), static_cast<off_t>(flushed_size_)) == 0
              ? "; the output ends with the last whole record written, and the cursor stays after it"
              : std::string("; cutting off the part written failed too (") + std::strerror(errno) +
                    "), so the output may end inside a record";
  }
  throw programs::RuntimeFailure("writing " + output_name_ + " failed: " + std::strerror(error) + cut +
                                 (error == ENOSPC ? "; free space on its filesystem" : ""));
}

}  // namespace ringfile::consumer
