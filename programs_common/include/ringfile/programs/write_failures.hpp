// Why a program that writes records gives up on a ring: a claim or a commit failed for a reason
// that waiting for space does not cure. Shared by ringfile-producer and ringfile-bridge in, so
// that both say it in the same words.
#pragma once

#include <string>

#include "ringfile/producer.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::programs {

// The one-line error for a claim (claim(), try_claim(), write() of a record below 64 KiB,
// write_batch() of such records) that returned `status`, neither ok nor one the caller waits out
// (timed_out, would_block, claim_lost), with `error` the errno it left: for io_error, the mapping
// of the ring the claim needed was refused.
std::string claim_failure(const Ring& ring, ClaimStatus status, int error);

// The same for a commit() (or write() of a record of 64 KiB or more): for io_error, writing the
// record into the ring file was refused.
std::string commit_failure(const Ring& ring, ClaimStatus status, int error);

}  // namespace ringfile::programs
