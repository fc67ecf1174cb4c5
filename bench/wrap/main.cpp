// ringfile-bench-wrap: how a file-backed ring's writer slows down after the wrap, for each writer
// kind, in the same run and under the same box. See bench/README.md.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/errno_text.hpp"
#include "support/byte_size.hpp"
#include "support/cpu_pinning.hpp"
#include "support/machine_info.hpp"
#include "wrap/box.hpp"
#include "wrap/kind_run.hpp"
#include "wrap/report.hpp"
#include "wrap/wrap_options.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ringfile::bench;
using namespace ringfile::bench::wrap;
using ringfile::programs::RuntimeFailure;
using ringfile::system::describe_errno;

void on_stop_signal(int) { request_stop(); }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Refuses before creating anything when the rings cannot all be reserved in `directory`.
void check_free_space(const WrapOptions& options, const fs::path& directory) {
  const std::optional<std::uint64_t> free_space = free_bytes(directory);
  if (!free_space) throw RuntimeFailure(describe_errno("cannot stat " + directory.string(), errno));
  const std::uint64_t needed = options.ring_count * options.ring_bytes;
  if (needed > *free_space) {
    char free_gigabytes[32];
    std::snprintf(free_gigabytes, sizeof(free_gigabytes), "%.1f GB", static_cast<double>(*free_space) / kBytesPerGB);
    throw RuntimeFailure("the rings need " + format_byte_size(needed) + " but " + directory.string() + " has " +
                         free_gigabytes + " free; use --dir (--tmpfs-dir) elsewhere, or fewer/smaller rings");
  }
}

// The rings' directory, made for this run and removed with whatever is left in it.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(fs::path path) : path_(std::move(path)) {
    std::error_code error;
    if (!fs::create_directory(path_, error)) {
      throw RuntimeFailure("cannot create " + path_.string() + ": " + error.message());
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

// The rings' memory budget is shared by the rings open on the machine (the library counts them in
// a registry). Other people's rings there would shrink this run's budget at random moments: the
// run counts only its own, in a registry of its own.
void use_own_ring_registry(const fs::path& directory) {
  const fs::path registry = directory / "ring-registry";
  std::error_code error;
  fs::create_directory(registry, error);
  if (error) throw RuntimeFailure("cannot create " + registry.string() + ": " + error.message());
  ::setenv("RINGFILE_REGISTRY_DIR", registry.c_str(), 1);
}

int run(int argc, char** argv) {
  WrapOptions options;
  if (const auto exit_code = parse_wrap_options(argc, argv, options)) return *exit_code;
  check_free_space(options, options.directory);
  if (options.tmpfs_leg) check_free_space(options, options.tmpfs_directory);
  install_stop_handlers();

  const std::string scratch_name = "ringfile-bench-wrap-" + std::to_string(::getpid());
  const ScratchDirectory ring_directory(options.directory / scratch_name);
  std::optional<ScratchDirectory> tmpfs_directory;
  if (options.tmpfs_leg) tmpfs_directory.emplace(options.tmpfs_directory / scratch_name);
  use_own_ring_registry(ring_directory.path());

  RunDescription description{options, {}, ring_directory.path(), RunMachine::at_start()};
  std::vector<KindResult> results;
  for (const std::string& kind_name : options.kinds) {
    const WriterKind& kind = *find_writer_kind(kind_name);
    const auto run_disk_leg = [&] {
      // Entered before any ring exists, so every page of every ring is charged to the box; left
      // and removed before the tmpfs leg, whose rings are memory and would not fit in it.
      const Box box(BoxRequest{options.box, options.box_memory_bytes,
                               options.read_bytes_per_second, options.read_iops,
                               ring_directory.path()});
      if (description.box_notes.empty()) {
        description.box_notes = box.notes();
        for (const std::string& note : box.notes()) std::fprintf(stderr, "box: %s\n", note.c_str());
      }
      if (stop_requested()) return;
      std::fprintf(stderr, "running %s ...\n", kind_name.c_str());
      results.push_back(run_writer_kind(kind, options, box, ring_directory.path(), Leg::disk));
    };
    const auto run_tmpfs_leg = [&] {
      if (!tmpfs_directory || stop_requested()) return;
      const Box unboxed(BoxRequest{false, 0, 0, 0, tmpfs_directory->path()});
      std::fprintf(stderr, "running %s on tmpfs, unboxed ...\n", kind_name.c_str());
      results.push_back(
          run_writer_kind(kind, options, unboxed, tmpfs_directory->path(), Leg::tmpfs));
    };
    if (options.tmpfs_first) run_tmpfs_leg();
    run_disk_leg();
    if (!options.tmpfs_first) run_tmpfs_leg();
    if (stop_requested()) break;
  }
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
  return ringfile::programs::run_guarded("ringfile-bench-wrap", [&] { return run(argc, argv); });
}
