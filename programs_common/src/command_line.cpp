#include "ringfile/programs/command_line.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/format/utf8.hpp"
#include "ringfile/programs/documentation.hpp"
#include "ringfile/programs/fault_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/version.hpp"

namespace ringfile::programs {
namespace {

std::string& mutable_program_name() {
  static std::string name = "ringfile";
  return name;
}

std::string one_line(std::string_view text) {
  std::string line;
  std::size_t from = 0;
  for (std::size_t at = 0; at <= text.size(); ++at) {
    if (at < text.size() && text[at] != '\n' && text[at] != '\r') continue;
    line += printable_text(text.substr(from, at - from));
    if (at < text.size() && !line.empty() && line.back() != ' ') line += "; ";
    from = at + 1;
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
  return line;
}

// Empty for a size, else why it is not one.
CLI::Validator size_validator() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        if (parse_byte_size(text)) return {};
        return explain_bad_size(text);
      },
      "");
}

// CLI11's wording for two mistakes, said as the rest of the programs' errors say things.
std::string parse_error_message(CLI::App& app, const CLI::ParseError& error) {
  const std::string text = error.what();
  const std::string repeated = ": At Most 1 required but received ";
  if (const auto at = text.find(repeated); at != std::string::npos) {
    return text.substr(0, at) + " is given " + text.substr(at + repeated.size()) + " times; give it once";
  }
  if (text == "A subcommand is required") {
    std::string names;
    for (const CLI::App* subcommand : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : " or ") + subcommand->get_name();
    }
    return "name what to do first: " + names;
  }
  return text;
}

}  // namespace

std::string printable_text(std::string_view text) {
  std::string shown;
  while (!text.empty()) {
    const format::Utf8Character character = format::decode_utf8(text);
    const std::size_t length = std::max<std::size_t>(character.length, 1);
    char escaped[16];
    if (character.length == 0) {
      // A byte that is not UTF-8, escaped as a control character is: raw, it would show as
      // whatever the terminal makes of it (0x9b is CSI to one that takes 8-bit controls).
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[0])));
      shown += escaped;
    } else if (format::acts_rather_than_shows(character.code_point)) {
      if (character.length == 1) {
        std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(character.code_point));
      } else {
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(character.code_point));
      }
      shown += escaped;
    } else {
      shown.append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  return shown;
}

const std::string& program_name() { return mutable_program_name(); }

void report_error(std::string_view message) {
  const std::string line = program_name() + ": " + one_line(message) + "\n";
  std::fflush(stdout);  // keep the order of what was printed before
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

int run_guarded(std::string_view name, const std::function<int()>& body) {
  mutable_program_name() = std::string(name);
  // The stored copy: `name` may be a view of the name this assignment has just replaced (a
  // producer's worker process passes program_name()).
  install_truncation_handler(program_name());
  int exit_code = kExitFailure;
  try {
    exit_code = body();
  } catch (const UsageError& error) {
    report_error(error.what());
    exit_code = kExitUsage;
  } catch (const ringfile::Error& error) {
    // The library's message already names the file and the fix. An out-of-range option (capacity,
    // consumer name, start position) is the caller's mistake, hence a usage error.
    report_error(error.what());
    exit_code = error.code() == ErrorCode::invalid_argument ? kExitUsage : kExitFailure;
  } catch (const std::bad_alloc&) {
    report_error("out of memory; lower the sizes asked for or free memory");
  } catch (const std::exception& error) {
    report_error(error.what());
  }
  if (!flush_stdout() && exit_code == kExitSuccess) exit_code = kExitFailure;
  return exit_code;
}

bool flush_stdout() noexcept {
  static bool reported = false;
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int error_number = errno;
  if (flushed && std::ferror(stdout) == 0) return true;
  if (!reported) {
    reported = true;
    try {
      // errno is that of the flush; a write that failed earlier left only the stream's flag.
      report_error(std::string("writing to stdout failed") +
                   (!flushed && error_number != 0 ? std::string(": ") + std::strerror(error_number) : "") +
                   "; what it shows is incomplete");
    } catch (...) {
      // Out of memory for the message: the exit code still says it.
    }
  }
  return false;
}

std::string version_line() {
  return program_name() + " " + kVersion + " (ring file format " + std::to_string(format::kVersionMajor) + "." +
         std::to_string(format::kVersionMinor) + ")";
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  app.set_version_flag("--version", version_line(), "Print the version and exit");
  if (argc == 2 && std::string_view(argv[1]) == "--man-page") {
    std::fputs(man_page(app).c_str(), stdout);
    return kExitSuccess;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--bash-completion") {
    std::fputs(bash_completion(app).c_str(), stdout);
    return kExitSuccess;
  }
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForVersion& version) {
    std::printf("%s\n", version.what());
    return kExitSuccess;
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitSuccess;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return kExitSuccess;
  } catch (const CLI::ParseError& error) {
    report_error(parse_error_message(app, error) + "; run '" + program_name() + " --help' for usage");
    return kExitUsage;
  }
}

CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& bytes,
                             const std::string& description) {
  return app
      .add_option_function<std::string>(
          name, [&bytes](const std::string& text) { bytes = parse_byte_size(text).value_or(0); },
          description)
      ->check(size_validator())
      ->type_name("SIZE");
}

CLI::Option* add_size_list_option(CLI::App& app, const std::string& name, std::vector<std::uint64_t>& sizes,
                                  const std::string& description) {
  return app
      .add_option_function<std::vector<std::string>>(
          name,
          [&sizes](const std::vector<std::string>& texts) {
            sizes.clear();
            for (const std::string& text : texts) sizes.push_back(parse_byte_size(text).value_or(0));
          },
          description)
      ->delimiter(',')
      ->check(size_validator())
      ->type_name("SIZE,...");
}

CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& count,
                              const std::string& description) {
  return app
      .add_option_function<std::string>(
          name, [&count](const std::string& text) { count = parse_count(text).value_or(0); }, description)
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (parse_count(text)) return {};
            return "'" + text + "' is not a whole number, 0 or more (e.g. 1000)";
          },
          ""))
      ->type_name("N");
}

CLI::Option* add_duration_option(CLI::App& app, const std::string& name, std::chrono::nanoseconds& duration,
                                 const std::string& description) {
  return app
      .add_option_function<std::string>(
          name,
          [&duration](const std::string& text) {
            duration = parse_duration(text).value_or(std::chrono::nanoseconds::zero());
          },
          description)
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (parse_duration(text)) return {};
            return explain_bad_duration(text);
          },
          ""))
      ->type_name("DURATION");
}

std::uint32_t max_record_option(std::uint64_t bytes) {
  if (bytes > format::kMostRecordBytes) {
    throw UsageError("--max-record " + format_bytes_beside(bytes, format::kMostRecordBytes) +
                     " is above the largest record a ring takes (" +
                     format_bytes_beside(format::kMostRecordBytes, bytes) + "); lower it");
  }
  return static_cast<std::uint32_t>(bytes);
}

CLI::Option* add_choice_option(CLI::App& app, const std::string& name, int& choice,
                               const std::vector<std::string>& words, const std::string& description) {
  const std::vector<std::string> choices = words;
  std::string listed;
  for (const auto& word : choices) listed += (listed.empty() ? "" : "|") + word;
  return app
      .add_option_function<std::string>(
          name,
          [&choice, choices](const std::string& text) {
            for (std::size_t index = 0; index < choices.size(); ++index) {
              if (choices[index] == text) choice = static_cast<int>(index);
            }
          },
          description)
      ->check(CLI::Validator(
          [choices, listed](const std::string& text) -> std::string {
            for (const auto& word : choices) {
              if (word == text) return {};
            }
            return "'" + text + "' is not one of " + listed;
          },
          ""))
      ->type_name(listed);
}

}  // namespace ringfile::programs
