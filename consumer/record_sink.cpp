#include "record_sink.hpp"

#include <cerrno>
#include <cstring>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"

namespace ringfile::consumer {

RecordSink::RecordSink(const std::string& output, bool append, OutputFormat format, const std::string& show_template,
                       const Ring* ring)
    : output_name_(output == "-" ? "stdout" : "'" + output + "'"),
      file_(programs::open_output(output, append, ring)),
      stream_(file_.get()),
      format_(format),
      escape_lines_(format == OutputFormat::lines && programs::is_terminal(file_.get())) {
  if (!show_template.empty()) show_.emplace(show_template);
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
  if (stream_.flush()) return;
  const int error = stream_.error_number();
  if (error == EPIPE) {
    throw programs::RuntimeFailure("the reader of " + output_name_ +
                                   " went away; the cursor stays after the last records written out");
  }
  throw programs::RuntimeFailure("writing " + output_name_ + " failed: " + std::strerror(error) +
                                 (error == ENOSPC ? "; free space on its filesystem" : ""));
}

}  // namespace ringfile::consumer
