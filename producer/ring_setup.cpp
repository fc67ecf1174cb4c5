#include "ring_setup.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "ringfile/error.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::producer {
namespace {

using programs::format_bytes;

const char* policy_name(WriterPolicy policy) { return policy == WriterPolicy::block ? "block" : "overwrite"; }

// The parameters of an existing ring that differ from those asked for, as "size 1.0 GiB (asked
// 2.0 GiB)". Only what the command line states is compared: an omitted option asks for nothing.
std::vector<std::string> differences(const ProducerSettings& settings, const RingInfo& info) {
  std::vector<std::string> found;
  if (info.capacity_bytes != settings.size_bytes) {
    found.push_back("size " + format_bytes(static_cast<double>(info.capacity_bytes)) + " (asked " +
                    format_bytes(static_cast<double>(settings.size_bytes)) + ")");
  }
  if (settings.policy && info.policy != *settings.policy) {
    found.push_back(std::string("policy ") + policy_name(info.policy) + " (asked " + policy_name(*settings.policy) + ")");
  }
  if (settings.max_record_bytes && info.max_record_bytes != *settings.max_record_bytes) {
    found.push_back("max record " + format_bytes(info.max_record_bytes) + " (asked " +
                    format_bytes(static_cast<double>(*settings.max_record_bytes)) + ")");
  }
  if (settings.hold_window_bytes) {
    const std::uint64_t asked = std::min(*settings.hold_window_bytes, info.capacity_bytes);
    const auto describe = [&](std::uint64_t window) {
      return window == 0 ? std::string("auto") : window >= info.capacity_bytes ? std::string("ring")
                                                                               : format_bytes(static_cast<double>(window));
    };
    if (asked != info.hold_window_bytes) {
      found.push_back("hold window " + describe(info.hold_window_bytes) + " (asked " + describe(asked) + ")");
    }
  }
  return found;
}

}  // namespace

Ring open_ring_for_writing(const ProducerSettings& settings, const std::filesystem::path& path) {
  if (!settings.create) return Ring::open(path);
  CreateOptions options;
  options.capacity_bytes = settings.size_bytes;
  if (settings.policy) options.policy = *settings.policy;
  if (settings.max_record_bytes) options.max_record_bytes = programs::max_record_option(*settings.max_record_bytes);
  options.file_mode = static_cast<mode_t>(settings.file_mode);
  if (settings.paging) options.paging = *settings.paging;
  if (settings.hold_window_bytes) options.hold_window_bytes = *settings.hold_window_bytes;
  try {
    return Ring::create(path, options);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::exists) throw;
  }
  // Another producer may have created it a moment ago: that is fine if it is the ring we want.
  Ring ring = Ring::open(path);
  const std::vector<std::string> differing = differences(settings, ring.info());
  if (!differing.empty()) {
    std::string listed;
    for (const auto& difference : differing) listed += (listed.empty() ? "" : ", ") + difference;
    throw programs::RuntimeFailure("'" + path.string() + "' already exists with other parameters: " + listed +
                                   "; use the existing parameters, another path, or remove the file");
  }
  return ring;
}

void check_record_sizes_fit(const ProducerSettings& settings, const Ring& ring) {
  const bool sized = settings.synthetic || settings.format == programs::RecordFormat::raw;
  const std::uint64_t largest = ring.info().max_record_bytes;
  if (sized && settings.record_size.max_bytes > largest) {
    throw programs::UsageError("--record-size " + format_bytes(static_cast<double>(settings.record_size.max_bytes)) +
                               " is larger than the largest record of '" + ring.info().path.string() + "' (" +
                               format_bytes(static_cast<double>(largest)) +
                               "); lower --record-size or create the ring with a larger --max-record");
  }
}

}  // namespace ringfile::producer
