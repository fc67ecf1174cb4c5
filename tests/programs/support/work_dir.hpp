// A scratch directory for one test, removed with everything in it at the end. World-traversable,
// so that a child running as another user can reach a file the test makes readable to it.
#pragma once

#include <filesystem>
#include <string>

namespace ringfile::program_test {

class WorkDir {
 public:
  WorkDir();
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& contents);

}  // namespace ringfile::program_test
