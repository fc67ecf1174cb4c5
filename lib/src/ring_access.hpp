// The ring file behind a Ring handle. The library's own classes (producers, consumers, the
// consumer table) reach it here, and so do the tests that look at the header directly (they
// include lib/src); the public headers do not hand it out.
#pragma once

#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::detail {

struct RingAccess {
  static RingFile& file(const Ring& ring) noexcept { return *ring.file_; }
  static bool has_file(const Ring& ring) noexcept { return ring.file_ != nullptr; }
};

inline RingFile& file_of(const Ring& ring) noexcept { return RingAccess::file(ring); }

// The ring file behind a handle a caller gave a producer, a consumer or the consumer table: a
// moved-from Ring has none, and file_of would follow a null pointer (found by a tester).
inline RingFile& file_of_given(const Ring& ring) {
  if (!RingAccess::has_file(ring)) {
    throw Error(ErrorCode::invalid_argument,
                "a moved-from Ring has no ring file; pass the Ring it was moved to, or open the ring again");
  }
  return RingAccess::file(ring);
}

}  // namespace ringfile::detail
