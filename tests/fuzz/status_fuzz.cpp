// Fuzzes what ringfile-status reads: Ring::open read-only, two samples (slot tables, the oldest
// unread record of each consumer, page cache residency), the report built from them and each of
// its renderings.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_ring_file.hpp"
#include "json_view.hpp"
#include "prometheus_view.hpp"
#include "ring_report.hpp"
#include "ring_sample.hpp"
#include "table_view.hpp"

using namespace ringfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<Ring> ring = fuzz::open_fuzzed_ring({data, size}, {.read_only = true});
  if (!ring) return 0;
  const status::RingSample earlier = status::take_sample(*ring);
  const status::RingSample later = status::take_sample(*ring);
  const status::RingReport report = status::build_report(&earlier, later);
  const status::RingReport single = status::build_report(nullptr, later);
  std::size_t rendered = status::render_json(report).size() + status::render_prometheus({report, single}).size();
  rendered += status::render_table(report, {.color = true, .unicode = true}).size();
  rendered += status::render_table(single, {}).size();
  (void)rendered;
  return 0;
}
