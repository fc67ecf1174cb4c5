// Byte counts as people type them on a command line ("256M", "625000", "200MB") and as the
// reports print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::bench {

// "K", "M", "G", "T" and "KiB".."TiB" are binary (the sizes of rings and views are powers of two);
// "kB", "KB", "MB", "GB", "TB" are decimal (disk rates are quoted that way: "200 MB/s").
// A bare number or a "B" suffix is bytes. Empty optional: not a size.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// "256 MiB" when exact in a binary unit, else "625000 B".
std::string format_byte_size(std::uint64_t bytes);

inline constexpr double kBytesPerGB = 1e9;
inline constexpr double kBytesPerMiB = 1024.0 * 1024.0;

}  // namespace ringfile::bench
