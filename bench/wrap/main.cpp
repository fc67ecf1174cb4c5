// ringfile-bench-wrap: how a file-backed ring's writer slows down after the wrap, for each writer
// kind, in the same run and under the same box. See bench/README.md.
#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "support/byte_size.hpp"
#include "support/cpu_pinning.hpp"
#include "support/machine_info.hpp"
#include "support/setup_error.hpp"
#include "wrap/box.hpp"
#include "wrap/kind_run.hpp"
#include "wrap/report.hpp"
#include "wrap/wrap_options.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ringfile::bench;
using namespace ringfile::bench::wrap;

void on_stop_signal(int) { request_stop(); }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Refuses before creating anything when the rings cannot all be reserved.
void check_free_space(const WrapOptions& options) {
  struct statvfs filesystem {};
  if (::statvfs(options.directory.c_str(), &filesystem) != 0) {
    throw SetupError(describe_errno("cannot stat " + options.directory.string(), errno));
  }
  const std::uint64_t free_bytes =
      static_cast<std::uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
  const std::uint64_t needed = options.ring_count * options.ring_bytes;
  if (needed > free_bytes) {
    char free_gigabytes[32];
    std::snprintf(free_gigabytes, sizeof(free_gigabytes), "%.1f GB",
                  static_cast<double>(free_bytes) / kBytesPerGB);
    throw SetupError("the rings need " + format_byte_size(needed) + " but " +
                     options.directory.string() + " has " + free_gigabytes +
                     " free; use --dir elsewhere, or fewer/smaller rings");
  }
}

// The rings' directory, made for this run and removed with whatever is left in it.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(fs::path path) : path_(std::move(path)) {
    std::error_code error;
    if (!fs::create_directory(path_, error)) {
      throw SetupError("cannot create " + path_.string() + ": " + error.message());
    }
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

int run(int argc, char** argv) {
  WrapOptions options;
  if (!parse_wrap_options(argc, argv, options)) return 0;
  check_free_space(options);
  install_stop_handlers();

  const ScratchDirectory ring_directory(options.directory /
                                        ("ringfile-bench-wrap-" + std::to_string(::getpid())));

  RunDescription description{options, {}, ring_directory.path(), RunMachine::at_start()};
  std::vector<KindResult> results;
  {
    // Entered before any ring exists, so every page of every ring is charged to the box.
    const Box box(BoxRequest{options.box, options.box_memory_bytes, options.read_bytes_per_second,
                             ring_directory.path()});
    description.box_notes = box.notes();
    for (const std::string& note : box.notes()) std::fprintf(stderr, "box: %s\n", note.c_str());
    for (const std::string& kind_name : options.kinds) {
      if (stop_requested()) break;
      std::fprintf(stderr, "running %s ...\n", kind_name.c_str());
      results.push_back(
          run_writer_kind(*find_writer_kind(kind_name), options, box, ring_directory.path()));
    }
  }  // the box is left and removed here, before the report
  description.machine.finish();

  const std::string report =
      options.json ? json_report(description, results) : text_report(description, results);
  std::fputs(report.c_str(), stdout);
  for (const KindResult& result : results) {
    if (!result.error.empty()) return 1;
  }
  return stop_requested() ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "ringfile-bench-wrap: %s\n", failure.what());
    return 1;
  }
}
