// Opening the rings a producer writes: creating them under --create, refusing an existing ring
// whose parameters differ from the ones asked for, and checking the record sizes fit.
#pragma once

#include <filesystem>

#include "producer_settings.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::producer {

// Opens the ring at `path` for writing, creating it first when --create asks and it is absent.
// Throws ringfile::Error (missing, not a ring, ...), RuntimeFailure (exists with other parameters).
Ring open_ring_for_writing(const ProducerSettings& settings, const std::filesystem::path& path);

// Throws UsageError when --record-size asks for records larger than the ring holds.
void check_record_sizes_fit(const ProducerSettings& settings, const Ring& ring);

}  // namespace ringfile::producer
