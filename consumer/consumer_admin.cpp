#include "consumer_admin.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ringfile/consumer_table.hpp"
#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/lag_estimate.hpp"
#include "ringfile/programs/lost_records.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/text_table.hpp"
#include "ringfile/programs/time_points.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::consumer {
namespace {

using programs::TextTable;
using Align = TextTable::Align;

std::uint64_t now_ns() { return programs::nanoseconds_since_epoch(std::chrono::system_clock::now()); }

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// What --list and --describe show of one consumer.
struct ConsumerView {
  ConsumerInfo info;
  std::string state;  // ATTACHED, DEAD, DETACHED, EXPIRED
  programs::LagEstimate lag;
  std::optional<double> last_seen_seconds;   // not attached: since its last poll, wait or detach
  std::optional<double> expires_in_seconds;  // not attached, with an expiry not yet passed

  std::string display_name() const {
    return info.name.empty() ? "(anonymous #" + std::to_string(info.slot) + ")" : info.name;
  }
};

std::vector<ConsumerView> view_consumers(const Ring& ring) {
  const std::vector<ConsumerInfo> consumers = ring.consumers();
  const std::uint64_t head = ring.head_position();
  const std::uint64_t now = now_ns();
  const std::optional<double> frame_bytes = programs::average_frame_bytes(ring.head_position(), ring.records_written());
  std::vector<ConsumerView> views;
  for (const ConsumerInfo& info : consumers) {
    ConsumerView view{info, "ATTACHED", programs::estimate_lag(ring, info.cursor, head, now, frame_bytes), {}, {}};
    if (info.past_expiry) {
      view.state = "EXPIRED";
    } else if (info.detached) {
      view.state = "DETACHED";
    } else if (!info.alive) {
      view.state = "DEAD";
    }
    if (view.state != "ATTACHED" && info.heartbeat_ns > 0) {
      view.last_seen_seconds = now > info.heartbeat_ns ? static_cast<double>(now - info.heartbeat_ns) / 1e9 : 0.0;
      const double expiry = std::chrono::duration<double>(info.expire_after).count();
      if (expiry > 0 && !info.past_expiry) view.expires_in_seconds = std::max(0.0, expiry - *view.last_seen_seconds);
    }
    views.push_back(std::move(view));
  }
  return views;
}

std::string seconds_or_dash(const std::optional<double>& seconds) {
  return seconds ? programs::format_seconds(*seconds) : "-";
}

std::string records_estimate(const programs::LagEstimate& lag) {
  return lag.records ? "~" + programs::format_count(static_cast<double>(*lag.records)) : "-";
}

std::string expiry_text(const ConsumerView& view) {
  if (view.info.expire_after.count() == 0) return "never";
  if (view.info.past_expiry) return "expired";
  const std::string after = programs::format_duration(view.info.expire_after);
  if (view.expires_in_seconds) return "in " + programs::format_seconds(*view.expires_in_seconds);
  return after + " after detach";
}

void write_consumer_json(programs::JsonWriter& json, const ConsumerView& view) {
  json.begin_object()
      .field("slot", view.info.slot)
      .field("name", view.info.name)
      .field("state", view.state)
      .field("pid", view.info.pid)
      .field("alive", view.info.alive)
      .field("holds_back", view.info.holds_back)
      .field("position", view.info.cursor)
      .field("lag_bytes", view.lag.bytes)
      .field("lag_seconds", view.lag.seconds)
      .field("lag_records_estimate", view.lag.records)
      .field("last_seen", view.info.heartbeat_ns > 0 ? std::optional(programs::format_utc_time(view.info.heartbeat_ns))
                                                     : std::nullopt)
      .field("last_seen_seconds_ago", view.last_seen_seconds)
      .field("expire_after_seconds",
             view.info.expire_after.count() > 0 ? std::optional(std::chrono::duration<double>(view.info.expire_after).count())
                                                : std::nullopt)
      .field("expires_in_seconds", view.expires_in_seconds)
      .field("past_expiry", view.info.past_expiry)
      .field("consumed_records", view.info.consumed_records)
      .field("lost_records", programs::lost_record_count(view.info.lost_records, view.info.lost_bytes))
      .field("lost_bytes", view.info.lost_bytes)
      .end_object();
}

std::size_t table_width() {
  return programs::is_terminal(STDOUT_FILENO) ? programs::terminal_columns(STDOUT_FILENO) : 0;
}

int list_consumers(const ConsumerSettings& settings) {
  const Ring ring = Ring::open(settings.path, OpenOptions{.read_only = true});
  const std::vector<ConsumerView> views = view_consumers(ring);
  if (settings.json) {
    programs::JsonWriter json;
    json.begin_object()
        .field("path", settings.path.string())
        .field("consumer_slots_used", views.size())
        .field("consumer_slots", format::kConsumerSlotCount);
    json.key("consumers").begin_array();
    for (const ConsumerView& view : views) write_consumer_json(json, view);
    json.end_array().end_object();
    std::printf("%s\n", json.text().c_str());
    return programs::kExitSuccess;
  }
  TextTable table({{"CONSUMER", Align::left},
                   {"STATE", Align::left},
                   {"PID", Align::right, 3},
                   {"CURSOR", Align::right, 5},
                   {"LAG", Align::right},
                   {"~RECORDS", Align::right, 2},
                   {"SECONDS", Align::right},
                   {"LAST SEEN", Align::right, 4},
                   {"EXPIRES", Align::left, 1}});
  for (const ConsumerView& view : views) {
    table.add_row({{view.display_name()},
                   {view.state},
                   {view.info.pid > 0 ? std::to_string(view.info.pid) : "-"},
                   {std::to_string(view.info.cursor)},
                   {programs::format_bytes(static_cast<double>(view.lag.bytes))},
                   {records_estimate(view.lag)},
                   {seconds_or_dash(view.lag.seconds)},
                   {view.last_seen_seconds ? programs::format_seconds(*view.last_seen_seconds) + " ago" : "now"},
                   {expiry_text(view)}});
  }
  std::string text = quoted(settings.path) + ": " + std::to_string(views.size()) + " of " +
                     std::to_string(format::kConsumerSlotCount) + " consumer slots used\n";
  if (!views.empty()) text += table.render("", false, table_width());
  std::fputs(text.c_str(), stdout);
  return programs::kExitSuccess;
}

const ConsumerView& find_view(const std::vector<ConsumerView>& views, const ConsumerSettings& settings) {
  for (const ConsumerView& view : views) {
    if (!view.info.name.empty() && view.info.name == settings.target_name) return view;
  }
  throw programs::RuntimeFailure(quoted(settings.path) + ": no consumer is named '" + settings.target_name +
                                 "'; ringfile-consumer --list shows the names");
}

int describe_consumer(const ConsumerSettings& settings) {
  const Ring ring = Ring::open(settings.path, OpenOptions{.read_only = true});
  const std::vector<ConsumerView> views = view_consumers(ring);
  const ConsumerView& view = find_view(views, settings);
  if (settings.json) {
    programs::JsonWriter json;
    write_consumer_json(json, view);
    std::printf("%s\n", json.text().c_str());
    return programs::kExitSuccess;
  }
  const ConsumerInfo& info = view.info;
  std::string text = "consumer '" + programs::printable_text(info.name) + "' of " + quoted(settings.path) + "\n";
  text += "  state       " + view.state + (info.pid > 0 ? " (pid " + std::to_string(info.pid) + ")" : "") + ", slot " +
          std::to_string(info.slot) + "\n";
  text += "  cursor      " + std::to_string(info.cursor) + "\n";
  text += "  lag         " + programs::format_bytes(static_cast<double>(view.lag.bytes)) + ", " +
          records_estimate(view.lag) + " records, oldest unread " + seconds_or_dash(view.lag.seconds) + " old\n";
  text += "  holds back  " + std::string(info.holds_back ? "yes" : info.expired ? "no (grace period over)" : "no") + "\n";
  if (info.heartbeat_ns > 0) {
    text += "  last seen   " + programs::format_utc_time(info.heartbeat_ns) +
            (view.last_seen_seconds ? " (" + programs::format_seconds(*view.last_seen_seconds) + " ago)" : "") + "\n";
  }
  text += "  expires     " + expiry_text(view) + "\n";
  text += "  consumed    " + std::to_string(info.consumed_records) + " records\n";
  const std::optional<std::uint64_t> lost = programs::lost_record_count(info.lost_records, info.lost_bytes);
  const std::string lost_bytes = programs::format_bytes(static_cast<double>(info.lost_bytes));
  text += "  lost        " +
          (lost ? std::to_string(*lost) + " records (" + lost_bytes + ") to lapping\n"
                : lost_bytes + " to lapping (how many records is unknown)\n");
  std::fputs(text.c_str(), stdout);
  return programs::kExitSuccess;
}

int delete_consumers(const ConsumerSettings& settings) {
  const Ring ring = Ring::open(settings.path);
  // Each name on its own, as rm takes its files: one that is unknown or attached is said and
  // fails the run, and the others are deleted all the same.
  programs::JsonWriter json;
  json.begin_object().field("path", settings.path.string()).key("deleted").begin_array();
  std::vector<std::pair<std::string, std::string>> refused;  // name, why
  for (const std::string& name : settings.delete_names) {
    try {
      delete_consumer(ring, name);
    } catch (const ringfile::Error& error) {
      // Refusals of this name; anything else (the table's lock failed) is about the ring and
      // would be said again for every name: the run ends on it, once.
      if (error.code() != ErrorCode::not_found && error.code() != ErrorCode::busy) throw;
      refused.emplace_back(name, error.what());
      continue;
    }
    json.value(name);
    if (!settings.quiet) {
      std::fputs((programs::program_name() + ": deleted consumer '" + programs::printable_text(name) + "' of " + quoted(settings.path) + "\n").c_str(),
                 stderr);
    }
  }
  json.end_array().key("refused").begin_array();
  for (const auto& [name, why] : refused) {
    json.begin_object().field("name", name).field("error", why).end_object();
    programs::report_error(why);
  }
  json.end_array().end_object();
  if (settings.json) std::printf("%s\n", json.text().c_str());
  return refused.empty() ? programs::kExitSuccess : programs::kExitFailure;
}

void write_lag_json(programs::JsonWriter& json, std::uint64_t position, const programs::LagEstimate& lag) {
  json.begin_object()
      .field("position", position)
      .field("lag_bytes", lag.bytes)
      .field("lag_records_estimate", lag.records)
      .field("lag_seconds", lag.seconds)
      .end_object();
}

int reset_consumer_cursor(const ConsumerSettings& settings) {
  const Ring ring = Ring::open(settings.path);
  const CursorReset reset = reset_consumer(ring, settings.target_name, settings.reset_to, settings.dry_run);
  const std::uint64_t now = now_ns();
  const std::optional<double> frame_bytes = programs::average_frame_bytes(ring.head_position(), ring.records_written());
  const programs::LagEstimate before = programs::estimate_lag(ring, reset.from, reset.head, now, frame_bytes);
  const programs::LagEstimate after = programs::estimate_lag(ring, reset.to, reset.head, now, frame_bytes);
  if (settings.json) {
    programs::JsonWriter json;
    json.begin_object()
        .field("path", settings.path.string())
        .field("consumer", settings.target_name)
        .field("dry_run", settings.dry_run)
        .field("applied", reset.applied)
        .field("head", reset.head)
        .field("holds_back", reset.holds_back)
        .field("moved_past_overwritten", reset.moved_past_overwritten);
    json.key("before");
    write_lag_json(json, reset.from, before);
    json.key("after");
    write_lag_json(json, reset.to, after);
    json.end_object();
    std::printf("%s\n", json.text().c_str());
  } else {
    TextTable table({{"CONSUMER", Align::left},
                     {"CURSOR", Align::right},
                     {"LAG", Align::right},
                     {"~RECORDS", Align::right, 2},
                     {"SECONDS", Align::right, 1},
                     {"NEW CURSOR", Align::right},
                     {"NEW LAG", Align::right},
                     {"~RECORDS", Align::right, 2},
                     {"SECONDS", Align::right, 1}});
    table.add_row({{programs::printable_text(settings.target_name)},
                   {std::to_string(reset.from)},
                   {programs::format_bytes(static_cast<double>(before.bytes))},
                   {records_estimate(before)},
                   {seconds_or_dash(before.seconds)},
                   {std::to_string(reset.to)},
                   {programs::format_bytes(static_cast<double>(after.bytes))},
                   {records_estimate(after)},
                   {seconds_or_dash(after.seconds)}});
    std::fputs(table.render("", false, table_width()).c_str(), stdout);
  }
  if (!settings.quiet) {
    std::string note = settings.dry_run ? "dry run: nothing changed; drop --dry-run to move the cursor"
                                        : "moved the cursor of '" + programs::printable_text(settings.target_name) + "'";
    if (reset.moved_past_overwritten) {
      note += "; producers had already reserved past the target, so it is at the oldest intact record instead";
    } else if (!settings.dry_run && !reset.holds_back && reset.to < reset.from) {
      note += "; it holds no producer back until it attaches, and reports what they overwrite meanwhile as lost";
    }
    std::fputs((programs::program_name() + ": " + note + "\n").c_str(), stderr);
  }
  return programs::kExitSuccess;
}

int clear_damaged(const ConsumerSettings& settings) {
  const std::vector<DamagedSlot> damaged = clear_damaged_slots(settings.path, settings.dry_run);
  const auto slot_name = [](const DamagedSlot& slot) {
    return std::string(slot.producer ? "producer" : "consumer") + " slot " + std::to_string(slot.index);
  };
  const bool any_live = std::any_of(damaged.begin(), damaged.end(),
                                    [](const DamagedSlot& slot) { return slot.live_owner_pid != 0; });
  if (settings.json) {
    programs::JsonWriter json;
    json.begin_object().field("path", settings.path.string()).field("dry_run", settings.dry_run).key("damaged");
    json.begin_array();
    for (const DamagedSlot& slot : damaged) {
      json.begin_object()
          .field("table", slot.producer ? "producer" : "consumer")
          .field("slot", std::uint64_t{slot.index})
          .field("problem", slot.problem)
          .field("live_owner_pid", slot.live_owner_pid != 0 ? std::optional<std::uint64_t>(slot.live_owner_pid)
                                                            : std::nullopt)
          .field("freed", !settings.dry_run && slot.live_owner_pid == 0)
          .end_object();
    }
    json.end_array().end_object();
    std::printf("%s\n", json.text().c_str());
  }
  // The slots left alone are errors: the ring still does not open.
  for (const DamagedSlot& slot : damaged) {
    if (slot.live_owner_pid == 0) continue;
    programs::report_error(slot_name(slot) + " of " + quoted(settings.path) + ": " + slot.problem +
                           ": its owner, process " + std::to_string(slot.live_owner_pid) +
                           ", is alive and still writes it; stop that process, then clear it");
  }
  if (!settings.quiet) {
    std::string lines;
    for (const DamagedSlot& slot : damaged) {
      if (slot.live_owner_pid != 0) continue;
      lines += programs::program_name() + ": " + slot_name(slot) + " of " + quoted(settings.path) + ": " +
               slot.problem + (settings.dry_run ? "\n" : ": freed\n");
    }
    if (damaged.empty()) {
      lines = programs::program_name() + ": no damaged slot in " + quoted(settings.path) + "\n";
    } else if (settings.dry_run && !lines.empty()) {
      lines += programs::program_name() + ": dry run: nothing changed; drop --dry-run to free them\n";
    }
    std::fputs(lines.c_str(), stderr);
  }
  return any_live ? programs::kExitFailure : programs::kExitSuccess;
}

}  // namespace

int manage_consumers(const ConsumerSettings& settings) {
  switch (settings.action) {
    case Action::list: return list_consumers(settings);
    case Action::describe: return describe_consumer(settings);
    case Action::remove: return delete_consumers(settings);
    case Action::reset: return reset_consumer_cursor(settings);
    case Action::clear_damaged: return clear_damaged(settings);
    case Action::read: break;
  }
  return programs::kExitUsage;
}

}  // namespace ringfile::consumer
