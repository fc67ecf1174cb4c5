#include "verification.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ringfile::consumer {

std::string loss_cause(bool may_be_lapped, std::uint64_t damaged_skipped) {
  if (damaged_skipped == 0) return "lapping";
  const std::string damage = std::to_string(damaged_skipped) +
                             (damaged_skipped == 1 ? " damaged stretch skipped" : " damaged stretches skipped");
  return may_be_lapped ? "lapping and " + damage : damage;
}

VerificationOutcome verification_of(const VerificationInputs& inputs, const ConsumerStats& now,
                                    std::uint64_t damaged_skipped) noexcept {
  VerificationOutcome outcome;
  outcome.totals = inputs.verifier->totals();
  outcome.producers = inputs.verifier->producers().size();
  outcome.lost_records = now.lost_records - inputs.at_attach.lost_records;
  outcome.lost_bytes = now.lost_bytes - inputs.at_attach.lost_bytes;
  outcome.damaged_skipped = damaged_skipped;
  outcome.may_be_lapped = inputs.may_be_lapped;
  // Records lost before the attach leave no gap in what this run reads (its verifier starts at its
  // first record): a gap is a loss during the run, which the attach's loss must not excuse.
  const bool lost_only_at_attach = now.lost_records == inputs.found_at_attach.lost_records &&
                                   now.lost_bytes == inputs.found_at_attach.lost_bytes &&
                                   outcome.totals.missing == 0;
  outcome.loss_allowed = inputs.may_be_lapped || inputs.skip_damaged || lost_only_at_attach;
  return outcome;
}

bool VerificationOutcome::ok() const noexcept {
  if (totals.corrupt > 0 || totals.duplicates > 0) return false;
  const bool reported_lost = lost_records > 0 || lost_bytes > 0;
  if (!reported_lost && totals.missing == 0) return true;
  // Losses are fine only where lapping is possible, and sequence gaps only where the library
  // reported the lapping that explains them.
  return loss_allowed && reported_lost;
}

std::string VerificationOutcome::describe() const {
  const std::string seen = std::to_string(totals.records) + " records from " + std::to_string(producers) +
                           (producers == 1 ? " producer" : " producers");
  std::string lapping;
  if (lost_records > 0 || lost_bytes > 0) {
    // No count of records when the bytes were lost before any record of their producer was seen.
    lapping = (lost_records > 0 ? std::to_string(lost_records) : std::string("an unknown number of")) + " records (" +
              std::to_string(lost_bytes) + " bytes) lost to " + loss_cause(may_be_lapped, damaged_skipped);
  }
  if (ok()) {
    std::string line = "verify OK: " + seen + ", in order and intact";
    if (!lapping.empty()) line += "; " + lapping + " (" + std::to_string(totals.missing) + " missing in " +
                                  std::to_string(totals.gaps) + " gaps)";
    return line;
  }
  std::vector<std::string> problems;
  if (totals.corrupt > 0) problems.push_back(std::to_string(totals.corrupt) + " corrupt");
  if (totals.duplicates > 0) problems.push_back(std::to_string(totals.duplicates) + " duplicated");
  if (totals.missing > 0) {
    problems.push_back(std::to_string(totals.missing) + " missing in " + std::to_string(totals.gaps) + " gaps" +
                       (loss_allowed ? " not explained by " + loss_cause(may_be_lapped, damaged_skipped) : ""));
  }
  if (!loss_allowed && !lapping.empty()) problems.push_back(lapping);
  std::string line = "verification failed: " + seen + ": ";
  for (std::size_t index = 0; index < problems.size(); ++index) line += (index ? ", " : "") + problems[index];
  if (!loss_allowed && (totals.missing > 0 || !lapping.empty())) {
    line += " (no loss is allowed under the block policy for a consumer that holds producers back)";
  } else if (loss_allowed && !lapping.empty()) {
    line += "; " + lapping;
  }
  if (totals.corrupt > 0 || totals.duplicates > 0 || (loss_allowed && totals.missing > 0)) {
    line += "; records are not synthetic, or the ring or a producer is faulty";
  }
  return line;
}

void VerificationOutcome::write_json(programs::JsonWriter& json) const {
  json.begin_object()
      .field("ok", ok())
      .field("records", totals.records)
      .field("producers", producers)
      .field("gaps", totals.gaps)
      .field("missing", totals.missing)
      .field("duplicates", totals.duplicates)
      .field("corrupt", totals.corrupt)
      .field("lost_records", lost_record_count(lost_records, lost_bytes))
      .field("lost_bytes", lost_bytes)
      .field("damaged_skipped", damaged_skipped)
      .end_object();
}

void VerificationOutcome::write_json(programs::SignalSafeLine& json) const noexcept {
  json.text("{\"ok\":").text(ok() ? "true" : "false");
  json.text(",\"records\":").count(totals.records).text(",\"producers\":").count(producers);
  json.text(",\"gaps\":").count(totals.gaps).text(",\"missing\":").count(totals.missing);
  json.text(",\"duplicates\":").count(totals.duplicates).text(",\"corrupt\":").count(totals.corrupt);
  json.text(",\"lost_records\":");
  write_lost_record_count(json, lost_records, lost_bytes);
  json.text(",\"lost_bytes\":").count(lost_bytes).text(",\"damaged_skipped\":").count(damaged_skipped).text("}");
}

void write_lost_record_count(programs::SignalSafeLine& json, std::uint64_t lost_records,
                             std::uint64_t lost_bytes) noexcept {
  if (const std::optional<std::uint64_t> count = lost_record_count(lost_records, lost_bytes)) {
    json.count(*count);
  } else {
    json.text("null");
  }
}

}  // namespace ringfile::consumer
