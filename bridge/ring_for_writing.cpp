#include "ring_for_writing.hpp"

#include <filesystem>
#include <system_error>

#include "ringfile/error.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge {
namespace {

// Throws RuntimeFailure when `ring` differs from what --create asks for.
void check_parameters(const InSettings& settings, const Ring& ring) {
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
}

}  // namespace

std::optional<Ring> find_ring_for_writing(const InSettings& settings) {
  if (!settings.create) return Ring::open(settings.ring);
  // Nothing there, as Ring::create sees it (lstat): a dangling link is something, and a missing
  // directory is for the creation to report.
  std::error_code ignored;
  if (!std::filesystem::exists(std::filesystem::symlink_status(settings.ring, ignored))) return std::nullopt;
  Ring ring = Ring::open(settings.ring);
  check_parameters(settings, ring);
  return ring;
}

Ring create_ring_for_writing(const InSettings& settings) {
  CreateOptions options;
  options.capacity_bytes = settings.size_bytes;
  if (settings.policy) options.policy = *settings.policy;
  if (settings.max_record_bytes) options.max_record_bytes = programs::max_record_option(*settings.max_record_bytes);
  try {
    return Ring::create(settings.ring, options);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::exists) throw;
  }
  Ring ring = Ring::open(settings.ring);
  check_parameters(settings, ring);
  return ring;
}

}  // namespace ringfile::bridge
