#include "record_sink.hpp"

#include <cerrno>
#include <cstring>

#include "ringfile/programs/command_line.hpp"

namespace ringfile::consumer {

RecordSink::RecordSink(const std::string& output, bool append, programs::RecordFormat format)
    : output_name_(output == "-" ? "stdout" : "'" + output + "'"),
      file_(programs::open_output(output, append)),
      stream_(file_.get()),
      format_(format) {}

void RecordSink::write(std::span<const std::byte> payload) noexcept {
  switch (format_) {
    case programs::RecordFormat::lines: {
      stream_.write(payload);
      const std::byte newline{'\n'};
      stream_.write({&newline, 1});
      break;
    }
    case programs::RecordFormat::raw:
      stream_.write(payload);
      break;
    case programs::RecordFormat::frames: {
      const auto length = static_cast<std::uint32_t>(payload.size());
      const std::byte prefix[4] = {std::byte(length & 0xff), std::byte(length >> 8 & 0xff),
                                   std::byte(length >> 16 & 0xff), std::byte(length >> 24 & 0xff)};
      stream_.write(prefix);
      stream_.write(payload);
      break;
    }
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
