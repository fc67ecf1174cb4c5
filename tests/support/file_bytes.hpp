// Reading and overwriting bytes of a file behind the library's back: the crashes, damage and
// hostile headers the tests build by hand.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <vector>

#include "ringfile/format/file_header.hpp"

namespace ringfile::test {

// Writes `size` bytes at `offset` of the file (the test fails if it cannot).
void patch_file(const std::filesystem::path& path, off_t offset, const void* bytes, std::size_t size);
// The `size` bytes at `offset` of the file (the test fails if there are fewer).
std::vector<char> read_file_bytes(const std::filesystem::path& path, off_t offset, std::size_t size);

// The ring file's identity as it is on disk.
format::FileIdentity read_identity(const std::filesystem::path& path);
// Rewrites the identity with a correct checksum, as a newer, an older or a buggy writer would.
void rewrite_identity(const std::filesystem::path& path, format::FileIdentity identity);
// Marks the ring file, created and not open anywhere, as written by a build of format version 2.1
// (which knows no group frames).
void make_version_2(const std::filesystem::path& path);

}  // namespace ringfile::test
