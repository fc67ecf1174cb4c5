#include "ring_for_writing.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <system_error>

#include "ringfile/error.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge {

RingForWriting open_ring_for_writing(const InSettings& settings) {
  if (!settings.create) return {Ring::open(settings.ring)};
  CreateOptions options;
  options.capacity_bytes = settings.size_bytes;
  if (settings.policy) options.policy = *settings.policy;
  if (settings.max_record_bytes) options.max_record_bytes = programs::max_record_option(*settings.max_record_bytes);
  try {
    return {Ring::create(settings.ring, options), true};
  } catch (const Error& error) {
    if (error.code() != ErrorCode::exists) throw;
  }
  Ring ring = Ring::open(settings.ring);
  const RingInfo& info = ring.info();
  const bool same = info.capacity_bytes == settings.size_bytes && (!settings.policy || info.policy == *settings.policy) &&
                    (!settings.max_record_bytes || info.max_record_bytes == *settings.max_record_bytes);
  if (!same) {
    throw programs::RuntimeFailure(
        "'" + settings.ring.string() + "' already exists with other parameters (size " +
        programs::format_bytes(static_cast<double>(info.capacity_bytes)) + ", " +
        (info.policy == WriterPolicy::block ? "block" : "overwrite") + " policy, records up to " +
        programs::format_bytes(info.max_record_bytes) +
        "); use its parameters, another path, or remove the file");
  }
  return {ring};
}

void remove_created_ring(const RingForWriting& target) {
  if (!target.created) return;
  const Ring& ring = target.ring;
  // Another program may have opened the ring since it was made: what it did there would go with
  // the file.
  if (ring.records_written() > 0 || !ring.consumers().empty()) return;
  const auto self = static_cast<std::uint64_t>(::getpid());
  for (const ProducerInfo& producer : ring.producers()) {
    if (producer.pid != self) return;
  }
  // The path may name another ring by now (this one removed and another made): only this one goes.
  const std::filesystem::path& path = ring.info().path;
  try {
    if (Ring::open(path, OpenOptions{.read_only = true}).info().creation_time_ns != ring.info().creation_time_ns) return;
  } catch (const Error&) {
    return;  // gone, or no ring there now
  }
  std::error_code ignored;  // the error the run failed with is the one to report
  std::filesystem::remove(path, ignored);
}

}  // namespace ringfile::bridge
