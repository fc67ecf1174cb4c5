#include "ringfile/programs/command_line.hpp"

#include <cstdio>
#include <string_view>
#include <vector>

#include "ringfile/programs/documentation.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::programs {
namespace {

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
