#include "throughput/throughput_report.hpp"

#include <cstdio>

#include "ringfile/programs/json_writer.hpp"
#include "support/text_columns.hpp"

namespace ringfile::bench::throughput {

namespace {

using programs::JsonWriter;

// Medians of each figure over the passes that succeeded (each figure on its own, so a median
// p99 may come from a different pass than the median rate).
struct Medians {
  double records_per_second = 0;
  double sent_per_second = 0;
  double bytes_per_second = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  std::size_t good_passes = 0;
};

Medians medians_of(const TransportRuns& runs) {
  std::vector<double> rates, sent, bytes, p50, p99, p999;
  for (const PassSummary& pass : runs.passes) {
    if (!pass.error.empty()) continue;
    rates.push_back(pass.records_per_second);
    sent.push_back(pass.sent_per_second);
    bytes.push_back(pass.bytes_per_second);
    p50.push_back(pass.latency.p50_ns);
    p99.push_back(pass.latency.p99_ns);
    p999.push_back(pass.latency.p999_ns);
  }
  return {median(rates), median(sent), median(bytes), median(p50), median(p99), median(p999), rates.size()};
}

const TransportRuns* find_runs(const SizeRuns& size, const std::string& transport) {
  for (const TransportRuns& runs : size.transports) {
    if (runs.transport == transport) return &runs;
  }
  return nullptr;
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

// "3.352 M", "876.9 k", "7610": rates across sizes differ by a factor of a thousand.
std::string format_rate(double per_second) {
  if (per_second >= 1e6) return format("%.3f M", per_second / 1e6);
  if (per_second >= 1e4) return format("%.1f k", per_second / 1e3);
  return format("%.0f", per_second);
}

std::string row(const std::vector<std::string>& cells) {
  static constexpr int kWidths[] = {14, 12, 12, 10, 9, 9, 10, 10, 10};
  return fixed_width_row(cells, kWidths);
}

}  // namespace

std::string text_report(const ThroughputRunDescription& run, const std::vector<SizeRuns>& sizes) {
  const ThroughputOptions& options = run.options;
  std::string text = "ringfile-bench-throughput, " + run.machine.started_at_utc + ", Linux " +
                     run.machine.kernel_release + ", " + std::to_string(run.machine.online_cpus) +
                     " CPUs; " +
                     (options.producers == 1 ? std::string("producer")
                                             : std::to_string(options.producers) + " producers (the records split between them)") +
                     " on CPU " + std::to_string(options.producer_cpu) +
                     (options.consumers == 1 ? std::string(", consumer")
                                             : ", " + std::to_string(options.consumers) + " consumers (each reads every record)") +
                     " on CPU " + std::to_string(options.consumer_cpu) +
                     ", queue depth " + std::to_string(options.queue_depth) + ", " +
                     (options.send_interval_ns == 0
                          ? std::string("flat out")
                          : "one record per " + std::to_string(options.send_interval_ns) + " ns") +
                     (options.clock_every == 1 ? std::string()
                                               : ", the clock read for every " + std::to_string(options.clock_every) +
                                                     "th record only") +
                     ", medians of " + std::to_string(options.repeat) + " passes\nload average " +
                     run.machine.load_at_start + " at start, " + run.machine.load_at_end + " at end\n";
  for (const SizeRuns& size : sizes) {
    text += "\nrecords of " + std::to_string(size.record_bytes) + " B, " +
            std::to_string(size.records) + " per pass\n";
    text += row(
        {"transport", "records/s", "sent/s", "MB/s", "p50 us", "p99 us", "p99.9 us", "rate vs", "p50 vs"});
    const TransportRuns* const baseline_runs = find_runs(size, options.baseline);
    const Medians baseline = baseline_runs ? medians_of(*baseline_runs) : Medians{};
    for (const TransportRuns& runs : size.transports) {
      const Medians figures = medians_of(runs);
      text +=
          row({runs.transport, format_rate(figures.records_per_second), format_rate(figures.sent_per_second),
               format("%.1f", figures.bytes_per_second / 1e6), format("%.2f", figures.p50_ns / 1e3),
               format("%.2f", figures.p99_ns / 1e3), format("%.2f", figures.p999_ns / 1e3),
               format("%.2fx", ratio(figures.records_per_second, baseline.records_per_second)),
               format("%.2fx", ratio(figures.p50_ns, baseline.p50_ns))});
    }
    if (size.transports.size() > 2) {
      // Every pair, not only against the baseline: each transport against each other one.
      text += "  records/s ratios, row / column:";
      for (const TransportRuns& column : size.transports) text += " " + column.transport;
      text += "\n";
      for (const TransportRuns& row_runs : size.transports) {
        const double row_rate = medians_of(row_runs).records_per_second;
        text += "    " + row_runs.transport + ":";
        for (const TransportRuns& column : size.transports) {
          text += " " + format("%.2fx", ratio(row_rate, medians_of(column).records_per_second));
        }
        text += "\n";
      }
    }
    for (const TransportRuns& runs : size.transports) {
      text += "  " + runs.transport + " passes (records/s):";
      for (const PassSummary& pass : runs.passes) {
        text += pass.error.empty() ? " " + format_rate(pass.records_per_second)
                                   : " FAILED(" + pass.error + ")";
        if (pass.sequence_errors != 0) {
          text += "[" + std::to_string(pass.sequence_errors) + " out of sequence]";
        }
      }
      text += "\n";
    }
  }
  text += "\nrecords/s: from the first record's send to the last record's arrival; sent/s: the producers' pace, "
          "from the first record's send to the last record's (a pass whose records all fit in the buffer shows what "
          "the consumers cost the producers).\n"
          "rate vs / p50 vs: this transport's median records/s (p50 latency) divided by " +
          options.baseline + "'s, same size, same run.\n";
  return text;
}

std::string json_report(const ThroughputRunDescription& run, const std::vector<SizeRuns>& sizes) {
  const ThroughputOptions& options = run.options;
  JsonWriter json;
  json.begin_object();
  run.machine.write_json_fields(json, "ringfile-bench-throughput");
  json.key("config").begin_object();
  json.field("queue_depth", options.queue_depth).field("producer_cpu", options.producer_cpu);
  json.field("consumer_cpu", options.consumer_cpu).field("consumers", options.consumers);
  json.field("producers", options.producers);
  json.field("send_interval_ns", options.send_interval_ns).field("clock_every", options.clock_every).field("repeat", options.repeat);
  json.field("baseline", options.baseline);
  json.end_object();
  json.key("sizes").begin_array();
  for (const SizeRuns& size : sizes) {
    json.begin_object().field("record_bytes", size.record_bytes).field("records", size.records);
    const TransportRuns* const baseline_runs = find_runs(size, options.baseline);
    const Medians baseline = baseline_runs ? medians_of(*baseline_runs) : Medians{};
    json.key("transports").begin_array();
    for (const TransportRuns& runs : size.transports) {
      const Medians figures = medians_of(runs);
      json.begin_object().field("transport", runs.transport);
      json.key("median").begin_object();
      json.field("records_per_second", figures.records_per_second);
      json.field("sent_per_second", figures.sent_per_second);
      json.field("bytes_per_second", figures.bytes_per_second);
      json.field("p50_ns", figures.p50_ns).field("p99_ns", figures.p99_ns);
      json.field("p999_ns", figures.p999_ns);
      json.field("good_passes", static_cast<std::uint64_t>(figures.good_passes));
      json.end_object();
      json.field("records_per_second_vs_baseline",
                 ratio(figures.records_per_second, baseline.records_per_second));
      json.field("p50_vs_baseline", ratio(figures.p50_ns, baseline.p50_ns));
      json.key("records_per_second_vs").begin_object();
      for (const TransportRuns& other : size.transports) {
        if (&other == &runs) continue;
        json.field(other.transport,
                   ratio(figures.records_per_second, medians_of(other).records_per_second));
      }
      json.end_object();
      json.key("passes").begin_array();
      for (const PassSummary& pass : runs.passes) {
        json.begin_object().field("records_per_second", pass.records_per_second);
        json.field("sent_per_second", pass.sent_per_second);
        json.field("bytes_per_second", pass.bytes_per_second);
        json.field("p50_ns", pass.latency.p50_ns).field("p99_ns", pass.latency.p99_ns);
        json.field("p999_ns", pass.latency.p999_ns).field("max_ns", pass.latency.max_ns);
        json.field("sequence_errors", pass.sequence_errors).field("error", pass.error);
        json.end_object();
      }
      json.end_array().end_object();
    }
    json.end_array().end_object();
  }
  json.end_array().end_object();
  return json.text() + "\n";
}

}  // namespace ringfile::bench::throughput
