// The ring file behind a Ring handle. The library's own classes (producers, consumers, the
// consumer table) reach it here, and so do the tests that look at the header directly (they
// include lib/src); the public headers do not hand it out.
#pragma once

#include "ring_file.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::detail {

struct RingAccess {
  static RingFile& file(const Ring& ring) noexcept { return *ring.file_; }
};

inline RingFile& file_of(const Ring& ring) noexcept { return RingAccess::file(ring); }

}  // namespace ringfile::detail
