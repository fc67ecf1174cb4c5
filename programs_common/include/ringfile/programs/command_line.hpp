// What the programs share about their command lines: parsing with --help, --version, --man-page
// and --bash-completion, and CLI11 options for sizes, durations and fixed choices. Includes
// program.hpp (exit codes, errors, run_guarded), which every program's command line uses.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/programs/program.hpp"

namespace ringfile::programs {

// Parses the command line. Returns nullopt to go on; otherwise the exit code: 0 after printing
// --help or --version, 2 after a one-line error. A lone `--man-page` or `--bash-completion`
// prints the program's manual page (roff) or bash completion script, made from the options
// declared in `app` (the build installs both).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Options whose text is checked (a one-line error naming the option) and converted at parse time.
CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& bytes,
                             const std::string& description);
// Sizes separated by commas ("64,4K,625000"); `sizes` is replaced by those given.
CLI::Option* add_size_list_option(CLI::App& app, const std::string& name, std::vector<std::uint64_t>& sizes,
                                  const std::string& description);
// A whole number, 0 or more ("-1", "1.5" and "1K" are refused with a one-line error).
CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& count,
                              const std::string& description);
CLI::Option* add_duration_option(CLI::App& app, const std::string& name,
                                 std::chrono::nanoseconds& duration, const std::string& description);
// `choice` receives the index of the word given in `words`.
CLI::Option* add_choice_option(CLI::App& app, const std::string& name, int& choice,
                               const std::vector<std::string>& words, const std::string& description);

}  // namespace ringfile::programs
