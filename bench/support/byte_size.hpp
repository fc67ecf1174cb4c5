// Byte counts as the reports print them. Typed ones are read by the programs' parser
// (ringfile/programs/units.hpp: K, M, G, T are powers of 1024), the same as every program's.
#pragma once

#include <cstdint>
#include <string>

namespace ringfile::bench {

// "256 MiB" when exact in a binary unit, else "625000 B".
std::string format_byte_size(std::uint64_t bytes);

// Rates are quoted in decimal GB/s, as disks are.
inline constexpr double kBytesPerGB = 1e9;
inline constexpr double kBytesPerMiB = 1024.0 * 1024.0;

}  // namespace ringfile::bench
