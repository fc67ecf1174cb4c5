// Reading and overwriting bytes of a file behind the library's back: the crashes, damage and
// hostile headers the tests build by hand.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <vector>

namespace ringfile::test {

// Writes `size` bytes at `offset` of the file (the test fails if it cannot).
void patch_file(const std::filesystem::path& path, off_t offset, const void* bytes, std::size_t size);
// The `size` bytes at `offset` of the file (the test fails if there are fewer).
std::vector<char> read_file_bytes(const std::filesystem::path& path, off_t offset, std::size_t size);

}  // namespace ringfile::test
