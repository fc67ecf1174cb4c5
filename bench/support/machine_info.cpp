#include "support/machine_info.hpp"

#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <ctime>
#include <fstream>

#include "support/cpu_pinning.hpp"

namespace ringfile::bench {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string kernel_release() {
  utsname names{};
  return ::uname(&names) == 0 ? names.release : "unknown";
}

std::optional<std::uint64_t> free_bytes(const std::filesystem::path& directory) {
  struct statvfs filesystem {};
  if (::statvfs(directory.c_str(), &filesystem) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
}

std::string load_averages() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one_minute, five_minutes, fifteen_minutes;
  if (!(loadavg >> one_minute >> five_minutes >> fifteen_minutes)) return "unknown";
  return one_minute + " " + five_minutes + " " + fifteen_minutes;
}

RunMachine RunMachine::at_start() {
  return {utc_now_iso8601(), bench::kernel_release(), online_cpu_count(), load_averages(), ""};
}

void RunMachine::write_json_fields(programs::JsonWriter& json, const std::string& program) const {
  json.field("program", program).field("started_at_utc", started_at_utc);
  json.field("kernel", kernel_release).field("online_cpus", online_cpus);
  json.field("load_at_start", load_at_start).field("load_at_end", load_at_end);
}

}  // namespace ringfile::bench
