// A small "--name value" / "--name=value" parser for the benchmark programs. Options write
// straight into the fields of the program's options struct, whose initial values are the
// defaults shown by --help.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::bench {

class OptionParser {
 public:
  OptionParser(std::string program_name, std::string summary);

  void add_flag(std::string name, bool* target, std::string help);
  // Accepts "256M", "4KiB", "200MB", "625000" (see byte_size.hpp).
  void add_byte_size(std::string name, std::uint64_t* target, std::string help);
  void add_count(std::string name, std::uint64_t* target, std::string help);
  void add_int(std::string name, int* target, std::string help);
  void add_text(std::string name, std::string* target, std::string help);
  // Comma-separated: "naive,pwrite".
  void add_list(std::string name, std::vector<std::string>* target, std::string help);

  // true: run. false: --help was printed, exit 0. Throws SetupError naming the bad option.
  bool parse(int argc, char** argv);
  // Whether the command line set `name` (so a preset such as --quick fills only the rest).
  bool was_given(std::string_view name) const;
  std::string usage() const;

 private:
  struct Option {
    std::string name;
    std::string help;
    std::string default_text;
    bool takes_value = true;
    std::function<bool(std::string_view)> assign;  // false: the value does not parse
  };
  void add(Option option);

  std::string program_name_;
  std::string summary_;
  std::vector<Option> options_;
  std::vector<std::string> given_;
};

std::vector<std::string> split_list(std::string_view text);

}  // namespace ringfile::bench
