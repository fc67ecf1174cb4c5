#include "ringfile/error.hpp"

#include "ringfile/producer.hpp"

namespace ringfile {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::not_a_ring: return "not_a_ring";
    case ErrorCode::version_mismatch: return "version_mismatch";
    case ErrorCode::truncated: return "truncated";
    case ErrorCode::corrupt: return "corrupt";
    case ErrorCode::no_space: return "no_space";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::exists: return "exists";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::busy: return "busy";
    case ErrorCode::table_full: return "table_full";
    case ErrorCode::io_error: return "io_error";
  }
  return "unknown";
}

const char* to_string(ClaimStatus status) noexcept {
  switch (status) {
    case ClaimStatus::ok: return "ok";
    case ClaimStatus::would_block: return "would_block";
    case ClaimStatus::too_large: return "too_large";
    case ClaimStatus::timed_out: return "timed_out";
    case ClaimStatus::claim_lost: return "claim_lost";
    case ClaimStatus::no_claim: return "no_claim";
    case ClaimStatus::claim_open: return "claim_open";
    case ClaimStatus::io_error: return "io_error";
    case ClaimStatus::corrupt: return "corrupt";
  }
  return "unknown";
}

}  // namespace ringfile
