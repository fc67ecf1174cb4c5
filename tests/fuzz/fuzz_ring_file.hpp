// What the fuzz targets share: fuzzer input turned into a ring file, and back (for seeds).
//
// An input is the ring's header (the FileHeader, 17408 bytes: identity, frontiers, slot tables)
// followed by its data area; bytes it lacks are zero. The identity's checksum is recomputed so
// that mutations reach the code behind it (a wrong checksum is covered by tests/lib). A declared
// capacity from 64 KiB to 1 MiB sizes the file to match it; any other is written as given, for
// Ring::open to refuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::fuzz {

void write_ring_file(std::span<const std::uint8_t> input, const std::filesystem::path& path);

// Writes `input` as the ring file of this run and opens it; nullopt when Ring::open refuses it
// (an Error: a fine outcome). Aborts if the mappings are not guarded.
std::optional<Ring> open_fuzzed_ring(std::span<const std::uint8_t> input, const OpenOptions& options);

// A ring file's bytes as a fuzzer input: the header, then the data area without its trailing
// zeros (so that seeds stay small).
std::vector<std::uint8_t> encode_ring_file(const std::vector<std::uint8_t>& file_bytes);

// The file each fuzz run writes, in a directory of this process (tmpfs where there is one).
const std::filesystem::path& scratch_ring_path();

// Every mapping of the ring file lies between two inaccessible guard regions (guarded_mappings.cpp,
// linked into each fuzz target), so that a read past either end of a view faults instead of
// reading a neighbouring mapping. Aborts if the library mapped the file without them.
void require_guarded_mappings();

// Attaches with `options` (an Error is a fine outcome: returns) and polls until nothing more
// comes, touching every payload byte. Aborts if more records arrive than the ring can hold,
// which would mean an endless loop. `patient` also waits out the grace period after which a
// consumer looks for the owner of an uncommitted frame below the head.
void read_every_record(const Ring& ring, const ConsumerOptions& options, bool patient);

}  // namespace ringfile::fuzz
