#include "table_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/units.hpp"
#include "text_table.hpp"

namespace ringfile::status {
namespace {

using programs::format_byte_rate;
using programs::format_bytes;
using Align = TextTable::Align;

constexpr int kBarWidth = 20;

bool utf8_locale() {
  for (const char* variable : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    return std::strstr(value, "UTF-8") != nullptr || std::strstr(value, "utf8") != nullptr ||
           std::strstr(value, "UTF8") != nullptr || std::strstr(value, "utf-8") != nullptr;
  }
  return false;
}

const char* state_color(ConsumerState state) {
  switch (state) {
    case ConsumerState::ok: return "\x1b[32m";
    case ConsumerState::lagging: return "\x1b[33m";
    case ConsumerState::stalled:
    case ConsumerState::dead:
    case ConsumerState::lapped: return "\x1b[31;1m";
    case ConsumerState::detached: return "\x1b[2m";
  }
  return nullptr;
}

// The lag as a share of the ring: how close producers are to waiting (block) or to lapping it.
std::string lag_bar(double fraction, const TableStyle& style) {
  const int filled = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * kBarWidth));
  std::string bar = "[";
  for (int cell = 0; cell < kBarWidth; ++cell) {
    if (style.unicode) {
      bar += cell < filled ? "\u2588" : "\u2591";
    } else {
      bar += cell < filled ? '#' : '.';
    }
  }
  return bar + "]";
}

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, fraction < 0.1 && fraction > 0 ? "%.2f%%" : "%.1f%%", fraction * 100);
  return text;
}

std::string optional_rate(const std::optional<double>& rate) { return rate ? format_byte_rate(*rate) : "-"; }

std::string summary_lines(const RingReport& report) {
  const double laps = static_cast<double>(report.head) / static_cast<double>(report.capacity);
  char laps_text[32];
  std::snprintf(laps_text, sizeof laps_text, "%.2f", laps);
  std::string text = report.path.string() + "  (" + (report.policy == WriterPolicy::block ? "block" : "overwrite") +
                     " policy, capacity " + format_bytes(static_cast<double>(report.capacity)) + ", records up to " +
                     format_bytes(report.max_record_bytes) + ", paging " + paging_name(report.paging) + ")\n";
  text += "  head " + std::to_string(report.head) + " (" + laps_text + " laps)";
  if (report.write_bytes_per_s) text += ", writing " + format_byte_rate(*report.write_bytes_per_s);
  text += "; page cache " + format_bytes(static_cast<double>(report.resident_bytes)) + " resident";
  if (report.dirty_bytes) text += ", " + format_bytes(static_cast<double>(*report.dirty_bytes)) + " dirty";
  text += "\n";
  const PagingState& paging = report.paging_state;
  if (paging.resident_budget_bytes > 0) {
    text += "  memory budget " + format_bytes(static_cast<double>(paging.resident_budget_bytes));
    if (paging.memory_bytes > 0) {
      text += " (half of " + format_bytes(static_cast<double>(paging.memory_bytes)) + " shared by " +
              std::to_string(paging.rings_sharing) + (paging.rings_sharing == 1 ? " ring)" : " rings)");
    }
    if (report.policy == WriterPolicy::block) {
      text += ", hold window " + (paging.hold_window_bytes >= report.capacity
                                      ? std::string("the whole ring")
                                      : format_bytes(static_cast<double>(paging.hold_window_bytes)));
    }
    text += "\n";
  }
  return text;
}

std::string consumer_table(const RingReport& report, const TableStyle& style) {
  if (report.consumers.empty()) return "  no consumers\n";
  TextTable table({{"CONSUMER", Align::left},
                   {"PID", Align::right},
                   {"ALIVE", Align::left},
                   {"STATE", Align::left},
                   {"READING", Align::left},
                   {"CURSOR", Align::right},
                   {"LAG", Align::right},
                   {"~RECORDS", Align::right},
                   {"SECONDS", Align::right},
                   {"OF RING", Align::left},
                   {"", Align::right},
                   {"READ/s", Align::right},
                   {"HOLDS", Align::left},
                   {"LOST", Align::right}});
  for (const ConsumerReport& consumer : report.consumers) {
    const bool paced = consumer.following && report.paging_state.hold_window_bytes < report.capacity;
    const std::string holds = paced                 ? "paced"
                              : consumer.holds_back ? "yes"
                              : consumer.expired    ? "no (expired)"
                                                    : "no";
    const std::string lost = consumer.lost_records > 0 || consumer.lost_bytes > 0
                                 ? programs::format_count(static_cast<double>(consumer.lost_records))
                                 : "-";
    table.add_row({{consumer.display_name()},
                   {consumer.pid > 0 ? std::to_string(consumer.pid) : "-"},
                   {consumer.detached ? "-" : consumer.alive ? "yes" : "no"},
                   {to_string(consumer.state), state_color(consumer.state)},
                   {reading_mode(consumer)},
                   {std::to_string(consumer.position)},
                   {format_bytes(static_cast<double>(consumer.lag_bytes))},
                   {consumer.lag_records_estimate ? "~" + programs::format_count(static_cast<double>(*consumer.lag_records_estimate)) : "-"},
                   {consumer.lag_seconds ? programs::format_seconds(*consumer.lag_seconds) : "-"},
                   {lag_bar(consumer.lag_fraction, style), state_color(consumer.state)},
                   {percent(consumer.lag_fraction)},
                   {optional_rate(consumer.read_bytes_per_s)},
                   {holds},
                   {lost}});
  }
  return table.render("  ", style.color);
}

std::string producer_table(const RingReport& report, const TableStyle& style) {
  if (report.producers.empty()) return "  no producers attached\n";
  TextTable table({{"PRODUCER", Align::left},
                   {"PID", Align::right},
                   {"ALIVE", Align::left},
                   {"RECORDS", Align::right},
                   {"WRITTEN", Align::right},
                   {"WRITE/s", Align::right},
                   {"RECORDS/s", Align::right}});
  for (const ProducerReport& producer : report.producers) {
    table.add_row({{"#" + std::to_string(producer.slot)},
                   {std::to_string(producer.pid)},
                   {producer.alive ? "yes" : "no", producer.alive ? nullptr : "\x1b[31;1m"},
                   {programs::format_count(static_cast<double>(producer.committed_records))},
                   {format_bytes(static_cast<double>(producer.committed_bytes))},
                   {optional_rate(producer.bytes_per_s)},
                   {producer.records_per_s ? programs::format_count(*producer.records_per_s) : "-"}});
  }
  return table.render("  ", style.color);
}

}  // namespace

TableStyle table_style_for_stdout(bool color) {
  return {color, programs::is_terminal(STDOUT_FILENO) && utf8_locale()};
}

std::string render_table(const RingReport& report, const TableStyle& style) {
  std::string text = style.color ? "\x1b[1m" + summary_lines(report) : summary_lines(report);
  if (style.color) text.insert(text.find('\n'), "\x1b[0m");
  text += "\n" + consumer_table(report, style);
  text += "\n" + producer_table(report, style);
  return text;
}

std::string table_footnote() {
  return "~RECORDS: estimated from the average record size.  SECONDS: age of the oldest unread record.  "
         "LOST: records lost to lapping.\nREADING: following (its next records are in memory) or replaying (read "
         "from disk).  HOLDS paced: producers stay within the hold window ahead of it.\n";
}

}  // namespace ringfile::status
