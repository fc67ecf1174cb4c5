#include "memory_budget.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// The value after `key` in a "key value [kB]" file (/proc/meminfo, memory.stat).
std::uint64_t read_keyed(const std::string& path, const std::string& key, std::uint64_t unit) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string name;
    std::uint64_t value = 0;
    if (words >> name >> value && (name == key || name == key + ":")) return value * unit;
  }
  return 0;
}

// A file holding one number, or "max" (cgroup v2): kUnlimited for "max", 0 when unreadable.
std::uint64_t read_limit(const std::string& path) {
  std::ifstream file(path);
  std::string text;
  if (!(file >> text)) return 0;
  if (text == "max") return kUnlimited;
  try {
    return std::stoull(text);
  } catch (...) {
    return 0;
  }
}

// The path of this process's cgroup for `controller` ("" for the v2 unified hierarchy).
std::string own_cgroup(const std::string& controller) {
  std::ifstream lines("/proc/self/cgroup");
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    if (controller.empty() ? controllers.empty() : ("," + controllers + ",").find("," + controller + ",") != std::string::npos) {
      return line.substr(second + 1);
    }
  }
  return {};
}

std::uint64_t cgroup_limit() {
  // v1: the kernel has already folded the ancestors' limits into this one.
  if (const std::string v1 = own_cgroup("memory"); !v1.empty()) {
    const std::uint64_t limit = read_keyed("/sys/fs/cgroup/memory" + v1 + "/memory.stat", "hierarchical_memory_limit", 1);
    if (limit != 0) return limit;
  }
  // v2: the lowest memory.max from the own cgroup up to the root.
  std::string path = own_cgroup("");
  if (path.empty()) return kUnlimited;
  std::uint64_t lowest = kUnlimited;
  for (;;) {
    const std::uint64_t limit = read_limit("/sys/fs/cgroup" + path + "/memory.max");
    if (limit != 0) lowest = std::min(lowest, limit);
    if (path == "/" || path.empty()) break;
    const auto slash = path.find_last_of('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return lowest;
}

// What all the rings together may hold of `memory_bytes`.
std::uint64_t rings_share(std::uint64_t memory_bytes) noexcept {
  return memory_bytes / 100 * kRingMemorySharePercent;
}

}  // namespace

std::uint64_t memory_for_rings() noexcept {
  try {
    const std::uint64_t total = read_keyed("/proc/meminfo", "MemTotal", 1024);
    const std::uint64_t limit = cgroup_limit();
    // A cgroup limit below the machine's memory is the one that bites; an unlimited cgroup (or
    // one at the machine's size) leaves what the machine has available now.
    if (limit != kUnlimited && (total == 0 || limit < total)) return limit;
    const std::uint64_t available = read_keyed("/proc/meminfo", "MemAvailable", 1024);
    return available != 0 ? available : total;
  } catch (...) {
    return 0;  // unreadable /proc or /sys: the caller falls back to its minimum
  }
}

std::uint64_t whole_rings_allowance(std::uint64_t memory_bytes) noexcept { return rings_share(memory_bytes) / 2; }

MemoryBudget share_memory(std::uint64_t memory_bytes, std::uint64_t rings_sharing, std::uint64_t whole_bytes) noexcept {
  MemoryBudget budget;
  budget.memory_bytes = memory_bytes;
  budget.rings_sharing = std::max<std::uint64_t>(rings_sharing, 1);
  budget.whole_bytes = std::min(whole_bytes, whole_rings_allowance(memory_bytes));
  budget.ring_bytes = (rings_share(memory_bytes) - budget.whole_bytes) / budget.rings_sharing;
  return budget;
}

}  // namespace ringfile::detail
