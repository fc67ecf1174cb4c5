#include "throughput/fan_out.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include <ringfile/system/clock.hpp>

#include "support/cpu_pinning.hpp"
#include "throughput/pass_report.hpp"

namespace ringfile::bench::throughput {

ExtraConsumers::ExtraConsumers(const PassConfig& config, const Consume& consume) {
  for (std::uint32_t index = 1; index < config.consumers; ++index) {
    children_.push_back(std::make_unique<ReportingChild>([&](const std::function<void()>& ready) {
      PassResult result;
      if (!pin_current_thread(config.consumer_cpu)) {
        result.error = "cannot pin the consumer";
      } else {
        try {
          result = consume(index, ready);
        } catch (const std::exception& failure) {
          result.error = failure.what();
        }
      }
      result.latencies_ns.clear();  // the first consumer's are the pass's
      return report_of(result);
    }));
    // One at a time: a consumer attaching is not racing the next one's fork.
    if (!children_.back()->wait_ready()) {
      start_error_ = "consumer " + std::to_string(index) + " ended before it attached";
      return;
    }
  }
}

void ExtraConsumers::merge_into(PassResult& first, bool kill) {
  if (first.error.empty()) first.error = start_error_;
  std::uint64_t first_send_ns = first.first_send_ns;
  std::uint64_t last_send_ns = first.last_send_ns;
  std::uint64_t last_arrival_ns = first.last_arrival_ns;
  for (std::size_t at = 0; at < children_.size(); ++at) {
    const std::string name = "consumer " + std::to_string(at + 1);
    std::optional<ChildReport> report = children_[at]->finish(kill || !start_error_.empty());
    if (!report) {
      if (first.error.empty()) first.error = name + " process failed";
      first.records_received = 0;
      continue;
    }
    const PassResult other = result_of(std::move(*report));
    if (first.error.empty() && !other.error.empty()) first.error = name + ": " + other.error;
    first.records_received = std::min(first.records_received, other.records_received);
    first.sequence_errors += other.sequence_errors;
    if (other.first_send_ns != 0) {
      first_send_ns = first_send_ns == 0 ? other.first_send_ns : std::min(first_send_ns, other.first_send_ns);
    }
    last_send_ns = std::max(last_send_ns, other.last_send_ns);
    last_arrival_ns = std::max(last_arrival_ns, other.last_arrival_ns);
  }
  children_.clear();
  first.first_send_ns = first_send_ns;
  first.last_send_ns = last_send_ns;
  first.last_arrival_ns = last_arrival_ns;
  if (first_send_ns != 0) first.seconds = system::seconds_between(first_send_ns, last_arrival_ns);
}

}  // namespace ringfile::bench::throughput
