#include "ring_for_writing.hpp"

#include <filesystem>
#include <system_error>

#include "ringfile/error.hpp"
#include "ringfile/programs/existing_ring.hpp"
#include "ringfile/programs/program.hpp"

namespace ringfile::bridge {
namespace {

// Throws RuntimeFailure when `ring` differs from what --create asks for.
void check_parameters(const InSettings& settings, const Ring& ring) {
  programs::AskedRingParameters asked;
  asked.size_bytes = settings.size_bytes;
  asked.policy = settings.policy;
  asked.max_record_bytes = settings.max_record_bytes;
  programs::refuse_other_parameters(ring.info(), asked);
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
