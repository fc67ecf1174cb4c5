#include "ring_setup.hpp"

#include <string>

#include "ringfile/error.hpp"
#include "ringfile/programs/existing_ring.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::producer {
namespace {

using programs::format_bytes_beside;

programs::AskedRingParameters asked_parameters(const ProducerSettings& settings) {
  programs::AskedRingParameters asked;
  asked.size_bytes = settings.size_bytes;
  asked.policy = settings.policy;
  asked.max_record_bytes = settings.max_record_bytes;
  asked.paging = settings.paging;
  asked.hold_window_bytes = settings.hold_window_bytes;
  asked.consumer_grace = settings.consumer_grace;
  asked.file_mode = settings.file_mode;
  return asked;
}

}  // namespace

Ring open_ring_for_writing(const ProducerSettings& settings, const std::filesystem::path& path) {
  if (!settings.create) return Ring::open(path);
  CreateOptions options;
  options.capacity_bytes = settings.size_bytes;
  if (settings.policy) options.policy = *settings.policy;
  if (settings.max_record_bytes) options.max_record_bytes = programs::max_record_option(*settings.max_record_bytes);
  if (settings.file_mode) options.file_mode = static_cast<mode_t>(*settings.file_mode);
  if (settings.paging) options.paging = *settings.paging;
  if (settings.hold_window_bytes) options.hold_window_bytes = *settings.hold_window_bytes;
  if (settings.consumer_grace) options.consumer_grace = *settings.consumer_grace;
  try {
    return Ring::create(path, options);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::exists) throw;
  }
  // Another producer may have created it a moment ago: that is fine if it is the ring we want.
  Ring ring = Ring::open(path);
  programs::refuse_other_parameters(ring.info(), asked_parameters(settings));
  return ring;
}

void check_record_sizes_fit(const ProducerSettings& settings, const Ring& ring) {
  const bool sized = settings.synthetic || settings.format == programs::RecordFormat::raw;
  const std::uint64_t largest = ring.info().max_record_bytes;
  if (sized && settings.record_size.max_bytes > largest) {
    throw programs::UsageError("--record-size " + format_bytes_beside(settings.record_size.max_bytes, largest) +
                               " is larger than the largest record of '" + ring.info().path.string() + "' (" +
                               format_bytes_beside(largest, settings.record_size.max_bytes) +
                               "); lower --record-size or create the ring with a larger --max-record");
  }
}

}  // namespace ringfile::producer
