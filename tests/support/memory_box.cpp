#include "support/memory_box.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <system_error>

namespace ringfile::test {
namespace {

bool write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  file.flush();
  return static_cast<bool>(file);
}

// This process's cgroup path for `controller` ("" for the v2 unified line), from /proc/self/cgroup.
std::optional<std::string> own_cgroup(const std::string& controller) {
  std::ifstream lines("/proc/self/cgroup");
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::stringstream controllers(line.substr(first + 1, second - first - 1));
    std::string name;
    if (controller.empty() && second == first + 1) return line.substr(second + 1);
    while (std::getline(controllers, name, ',')) {
      if (name == controller) return line.substr(second + 1);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<MemoryBox> MemoryBox::create(std::uint64_t limit_bytes, std::string* why_not) {
  if (::geteuid() != 0) {
    *why_not = "not root";
    return std::nullopt;
  }
  const std::string name = "ringfile-test-" + std::to_string(::getpid());
  std::error_code error;
  if (auto own = own_cgroup("memory"); own && std::filesystem::exists("/sys/fs/cgroup/memory")) {
    const auto directory = std::filesystem::path("/sys/fs/cgroup/memory") / own->substr(1) / name;
    if (!std::filesystem::create_directory(directory, error)) {
      *why_not = "cannot create " + directory.string() + ": " + error.message();
      return std::nullopt;
    }
    MemoryBox box(directory, false);
    if (!write_text(directory / "memory.limit_in_bytes", std::to_string(limit_bytes))) {
      *why_not = "cannot set memory.limit_in_bytes";
      return std::nullopt;
    }
    return box;
  }
  if (auto own = own_cgroup(""); own && std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
    const auto directory = std::filesystem::path("/sys/fs/cgroup") / own->substr(1) / name;
    if (!std::filesystem::create_directory(directory, error)) {
      *why_not = "cannot create " + directory.string() + ": " + error.message();
      return std::nullopt;
    }
    MemoryBox box(directory, true);
    if (!write_text(directory / "memory.max", std::to_string(limit_bytes))) {
      *why_not = "cannot set memory.max (memory controller not delegated?)";
      return std::nullopt;
    }
    return box;
  }
  *why_not = "no memory cgroup controller";
  return std::nullopt;
}

MemoryBox::MemoryBox(MemoryBox&& other) noexcept
    : directory_(std::move(other.directory_)),
      blkio_directory_(std::move(other.blkio_directory_)),
      version_two_(other.version_two_),
      counting_reads_(other.counting_reads_) {
  other.directory_.clear();
  other.blkio_directory_.clear();
}

MemoryBox::~MemoryBox() {
  // The processes put in the box have exited by now; an empty cgroup can be removed.
  if (!blkio_directory_.empty()) ::rmdir(blkio_directory_.c_str());
  if (!directory_.empty()) ::rmdir(directory_.c_str());
}

bool MemoryBox::add(pid_t pid) const {
  if (!blkio_directory_.empty() && !write_text(blkio_directory_ / "cgroup.procs", std::to_string(pid))) return false;
  return write_text(directory_ / "cgroup.procs", std::to_string(pid));
}

bool MemoryBox::count_reads(std::string* why_not) {
  if (version_two_) {
    counting_reads_ = std::filesystem::exists(directory_ / "io.stat");
    if (!counting_reads_) *why_not = "no io controller in " + directory_.string();
    return counting_reads_;
  }
  const auto own = own_cgroup("blkio");
  if (!own || !std::filesystem::exists("/sys/fs/cgroup/blkio")) {
    *why_not = "no blkio cgroup controller";
    return false;
  }
  const auto directory = std::filesystem::path("/sys/fs/cgroup/blkio") / own->substr(1) / directory_.filename();
  std::error_code error;
  if (!std::filesystem::create_directory(directory, error)) {
    *why_not = "cannot create " + directory.string() + ": " + error.message();
    return false;
  }
  blkio_directory_ = directory;
  counting_reads_ = true;
  return true;
}

MemoryBox::Reads MemoryBox::reads() const {
  Reads reads;
  if (!counting_reads_) return reads;
  if (version_two_) {
    // "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device.
    std::ifstream stat(directory_ / "io.stat");
    std::string word;
    while (stat >> word) {
      if (word.rfind("rbytes=", 0) == 0) reads.bytes += std::stoull(word.substr(7));
      if (word.rfind("rios=", 0) == 0) reads.requests += std::stoull(word.substr(5));
    }
    return reads;
  }
  // "MAJ:MIN Read N" per device, then "Total N".
  const auto sum_reads = [](const std::filesystem::path& path) {
    std::ifstream lines(path);
    std::string device, kind;
    std::uint64_t value = 0, total = 0;
    while (lines >> device) {
      if (device == "Total") {
        lines >> value;
        continue;
      }
      if (lines >> kind >> value && kind == "Read") total += value;
    }
    return total;
  };
  reads.bytes = sum_reads(blkio_directory_ / "blkio.throttle.io_service_bytes");
  reads.requests = sum_reads(blkio_directory_ / "blkio.throttle.io_serviced");
  return reads;
}

std::uint64_t MemoryBox::peak_bytes() const {
  std::ifstream file(directory_ / (version_two_ ? "memory.peak" : "memory.max_usage_in_bytes"));
  std::uint64_t peak = 0;
  file >> peak;
  return peak;
}

}  // namespace ringfile::test
