// A directory removed with everything in it at the end of a test.
#pragma once

#include <filesystem>

namespace ringfile::test {

class TempDir {
 public:
  // Under `base`, or else $TMPDIR, or else /tmp.
  explicit TempDir(const char* base = nullptr);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace ringfile::test
