#include "table_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ringfile/programs/existing_ring.hpp"
#include "ringfile/programs/lost_records.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/text_table.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::status {
namespace {

using programs::format_byte_rate;
using programs::format_bytes;
using programs::TextTable;
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

const char* state_color(ConsumerHealth state) {
  switch (state) {
    case ConsumerHealth::ok: return "\x1b[32m";
    case ConsumerHealth::lagging: return "\x1b[33m";
    case ConsumerHealth::stalled:
    case ConsumerHealth::dead:
    case ConsumerHealth::lapped:
    case ConsumerHealth::damaged: return "\x1b[31;1m";
    case ConsumerHealth::detached:
    case ConsumerHealth::expired: return "\x1b[2m";
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

// How full the consumer table is: a full one refuses new consumers, named or not. Slots that a
// new consumer takes when none is free (an anonymous consumer's whose process is gone, a name's
// past its expiry) do not fill it: the advice to delete names was given for a table of dead
// anonymous consumers, which have no name to delete (found by a tester).
std::string slots_line(const RingReport& report) {
  std::string text = "  consumer slots " + std::to_string(report.consumer_slots_used) + "/" +
                     std::to_string(report.consumer_slots) + " used";
  const auto reusable = static_cast<std::size_t>(
      std::count_if(report.consumers.begin(), report.consumers.end(), [](const ConsumerReport& consumer) {
        return (consumer.name.empty() && !consumer.alive) || consumer.past_expiry;
      }));
  if (reusable > 0) {
    text += " (" + std::to_string(reusable) +
            " of them free for the next consumer: anonymous ones whose process is gone, names past their expiry)";
  }
  const std::size_t taken = report.consumer_slots_used - std::min(reusable, report.consumer_slots_used);
  if (taken * 4 >= report.consumer_slots * 3) {
    text += taken >= report.consumer_slots ? " (FULL" : " (nearly full";
    text += ": delete names that are gone with ringfile-consumer --delete NAME, or attach with --expire-after)";
  }
  if (report.producers_waiting > 0) {
    text += "; " + std::to_string(report.producers_waiting) + " producer" + (report.producers_waiting == 1 ? "" : "s") +
            " waiting for space";
  }
  return text + "\n";
}

std::string summary_lines(const RingReport& report) {
  const double laps = static_cast<double>(report.head) / static_cast<double>(report.capacity);
  char laps_text[32];
  std::snprintf(laps_text, sizeof laps_text, "%.2f", laps);
  std::string text = programs::printable_text(report.path.string()) + "  (" + programs::policy_name(report.policy) +
                     " policy, capacity " + format_bytes(static_cast<double>(report.capacity)) + ", records up to " +
                     programs::format_bytes_exact(report.max_record_bytes) + ", paging " + programs::paging_name(report.paging) + ")\n";
  text += "  head " + std::to_string(report.head) + " (" + laps_text + " laps)";
  if (report.write_bytes_per_s) text += ", writing " + format_byte_rate(*report.write_bytes_per_s);
  text += "; page cache " + format_bytes(static_cast<double>(report.resident_bytes)) + " resident";
  if (report.dirty_bytes) text += ", " + format_bytes(static_cast<double>(*report.dirty_bytes)) + " dirty";
  text += "\n";
  const PagingState& paging = report.paging_state;
  if (paging.resident_budget_bytes > 0) {
    text += "  memory budget " + format_bytes(static_cast<double>(paging.resident_budget_bytes));
    if (paging.memory_bytes > 0) {
      text += " (half of " + format_bytes(static_cast<double>(paging.memory_bytes));
      if (paging.whole_rings_bytes > 0) {
        text += " less " + format_bytes(static_cast<double>(paging.whole_rings_bytes)) + " for rings kept whole,";
      }
      text += " shared by " + std::to_string(paging.rings_sharing) + (paging.rings_sharing == 1 ? " ring)" : " rings)");
    }
    if (report.policy == WriterPolicy::block) {
      text += ", hold window " + (paging.hold_window_bytes >= report.capacity
                                      ? std::string("the whole ring")
                                      : format_bytes(static_cast<double>(paging.hold_window_bytes)));
    }
    text += "\n";
  }
  return text + slots_line(report);
}

std::string consumer_table(const RingReport& report, const TableStyle& style) {
  if (report.consumers.empty()) return "  no consumers\n";
  // On a narrow terminal the columns with the highest drop order go first: the bar, then the
  // cursor, ..., keeping name, state, lag and its age.
  TextTable table({{"CONSUMER", Align::left},
                   {"PID", Align::right, 7},
                   {"ALIVE", Align::left, 10},
                   {"STATE", Align::left},
                   {"READING", Align::left, 9},
                   {"CURSOR", Align::right, 11},
                   {"LAG", Align::right},
                   {"~RECORDS", Align::right, 5},
                   {"SECONDS", Align::right},
                   {"OF RING", Align::left, 12},
                   {"", Align::right, 3},
                   {"READ/s", Align::right, 2},
                   {"HOLDS", Align::left, 6},
                   {"LOST", Align::right, 4}});
  for (const ConsumerReport& consumer : report.consumers) {
    const bool paced = consumer.following && report.paging_state.hold_window_bytes < report.capacity;
    const std::string holds = paced                 ? "paced"
                              : consumer.holds_back ? "yes"
                              : consumer.expired    ? "no (grace over)"
                                                    : "no";
    const std::optional<std::uint64_t> lost_count = programs::lost_record_count(consumer.lost_records, consumer.lost_bytes);
    const std::string lost = consumer.lost_records == 0 && consumer.lost_bytes == 0 ? "-"
                             : lost_count ? programs::format_count(static_cast<double>(*lost_count))
                                          : "?";
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
  return table.render("  ", style.color, style.width);
}

std::string producer_table(const RingReport& report, const TableStyle& style) {
  if (report.producers.empty()) return "  no producers attached\n";
  TextTable table({{"PRODUCER", Align::left},
                   {"PID", Align::right, 4},
                   {"ALIVE", Align::left, 5},
                   {"STATE", Align::left},
                   {"FOR", Align::left},
                   {"SINCE", Align::right},
                   {"RECORDS", Align::right, 3},
                   {"WRITTEN", Align::right, 6},
                   {"WRITE/s", Align::right, 1},
                   {"RECORDS/s", Align::right, 2},
                   {"WAITED", Align::right, 7}});
  for (const ProducerReport& producer : report.producers) {
    const bool waiting = producer.waiting_seconds.has_value();
    const char* state = !producer.alive ? "DEAD" : waiting ? "WAITING" : "WRITING";
    table.add_row({{"#" + std::to_string(producer.slot)},
                   {std::to_string(producer.pid)},
                   {producer.alive ? "yes" : "no", producer.alive ? nullptr : "\x1b[31;1m"},
                   {state, !producer.alive ? "\x1b[31;1m" : waiting ? "\x1b[33m" : nullptr},
                   {waiting ? producer.waiting_for : "-"},
                   {waiting ? programs::format_seconds(*producer.waiting_seconds) : "-"},
                   {programs::format_count(static_cast<double>(producer.committed_records))},
                   {format_bytes(static_cast<double>(producer.committed_bytes))},
                   {optional_rate(producer.bytes_per_s)},
                   {producer.records_per_s ? programs::format_count(*producer.records_per_s) : "-"},
                   {programs::format_seconds(producer.waited_seconds)}});
  }
  return table.render("  ", style.color, style.width);
}

}  // namespace

TableStyle table_style_for_stdout(bool color) {
  const bool terminal = programs::is_terminal(STDOUT_FILENO);
  // One column short of the edge: a line that fills the last column leaves some terminals about
  // to wrap, and the next newline then skips a line.
  const std::size_t columns = terminal ? programs::terminal_columns(STDOUT_FILENO) : 0;
  return {color, terminal && utf8_locale(), columns > 1 ? columns - 1 : 0};
}

std::string render_table(const RingReport& report, const TableStyle& style) {
  std::string text = style.color ? "\x1b[1m" + summary_lines(report) : summary_lines(report);
  if (style.color) text.insert(text.find('\n'), "\x1b[0m");
  if (style.width > 0) text = programs::fit_lines(text, style.width);
  text += "\n" + consumer_table(report, style);
  text += "\n" + producer_table(report, style);
  return text;
}

std::string table_footnote(std::size_t width) {
  const std::string text =
      "~RECORDS: estimated from the average record size.  SECONDS: age of the oldest unread record.  "
      "LOST: records lost to lapping (?: bytes lost, how many records unknown).\nREADING: following (its next records are in memory) or replaying (read "
      "from disk); - when detached or dead.  HOLDS paced: producers stay within the hold window ahead of it.\n"
      "FOR: what a WAITING producer waits for, SINCE how long.\n";
  return width > 0 ? programs::fit_lines(text, width) : text;
}

}  // namespace ringfile::status
