#include "ringfile/programs/documentation.hpp"

#include <cctype>
#include <map>
#include <sstream>
#include <vector>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/version.hpp"

namespace ringfile::programs {
namespace {

// Text as roff reads it: backslashes doubled, hyphens in words unbreakable and unlike dashes, no
// line starting with a control character.
std::string roff(const std::string& text) {
  std::string escaped;
  bool line_start = true;
  for (const char character : text) {
    if (line_start && (character == '.' || character == '\'')) escaped += "\\&";
    if (character == '\\') {
      escaped += "\\e";
    } else if (character == '-') {
      escaped += "\\-";
    } else {
      escaped += character;
    }
    line_start = character == '\n';
  }
  return escaped;
}

std::string option_names(const CLI::Option& option) {
  std::string names;
  for (const auto& name : option.get_snames()) names += (names.empty() ? "-" : ", -") + name;
  for (const auto& name : option.get_lnames()) names += (names.empty() ? "--" : ", --") + name;
  return names;
}

bool takes_value(const CLI::Option& option) { return option.get_type_size_max() > 0; }

// The words of a type name such as "lines|raw|frames" (placeholders in capitals left out).
std::vector<std::string> choice_words(const std::string& type_name) {
  std::vector<std::string> words;
  std::string word;
  std::istringstream parts(type_name);
  while (std::getline(parts, word, '|')) {
    bool lowercase_word = !word.empty();
    for (const char character : word) {
      if (!(std::islower(static_cast<unsigned char>(character)) || character == '-' || std::isdigit(static_cast<unsigned char>(character)))) {
        lowercase_word = false;
      }
    }
    if (lowercase_word && word != "-") words.push_back(word);
  }
  return words;
}

std::string shell_name(const std::string& program) {
  std::string name = "_";
  for (const char character : program) name += std::isalnum(static_cast<unsigned char>(character)) ? character : '_';
  return name;
}

std::string upper(std::string text) {
  for (char& character : text) character = static_cast<char>(std::toupper(static_cast<unsigned char>(character)));
  return text;
}

}  // namespace

std::string man_page(const CLI::App& app) {
  const std::string program = app.get_name();
  const std::string description = app.get_description();
  // NAME: the description up to its first colon or full stop, on one line.
  std::string summary = description.substr(0, description.find_first_of(".:"));
  for (char& character : summary) {
    if (character == '\n') character = ' ';
  }
  std::string page = ".TH " + upper(roff(program)) + " 1 \"\" \"ringfile " + kVersion + "\" \"User Commands\"\n";
  page += ".SH NAME\n" + roff(program) + " \\- " + roff(summary) + "\n";
  page += ".SH SYNOPSIS\n.B " + roff(program) + "\n";
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional()) page += ".I " + roff(option->get_name(true)) + "\n";
  }
  page += "[\\fIOPTIONS\\fR]\n";
  page += ".SH DESCRIPTION\n";
  std::istringstream paragraph(description);
  std::string line;
  while (std::getline(paragraph, line)) page += roff(line) + "\n";
  // Options by group, in the order the groups first appear.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<const CLI::Option*>> grouped;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;  // hidden
    if (grouped.find(option->get_group()) == grouped.end()) groups.push_back(option->get_group());
    grouped[option->get_group()].push_back(option);
  }
  for (const std::string& group : groups) {
    page += ".SH " + upper(roff(group == "Positionals" ? std::string("Arguments") : group)) + "\n";
    for (const CLI::Option* option : grouped[group]) {
      page += ".TP\n";
      const std::string names = option->get_positional() ? option->get_name(true) : option_names(*option);
      page += ".B " + roff(names);
      if (!option->get_positional() && takes_value(*option) && !option->get_type_name().empty()) {
        page += " \\fI" + roff(option->get_type_name()) + "\\fR";
      }
      page += "\n" + roff(option->get_description()) + "\n";
    }
  }
  page += ".SH SEE ALSO\n";
  const std::vector<std::string> programs{"ringfile-producer", "ringfile-consumer", "ringfile-status"};
  std::string see_also;
  for (const std::string& other : programs) {
    if (other != program) see_also += (see_also.empty() ? "" : ",\n") + (".BR " + roff(other) + " (1)");
  }
  return page + see_also + "\n";
}

std::string bash_completion(const CLI::App& app) {
  const std::string program = app.get_name();
  std::string names;
  std::string cases;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_positional() || option->get_group().empty()) continue;
    std::string patterns;
    for (const auto& name : option->get_snames()) patterns += (patterns.empty() ? "-" : "|-") + name;
    for (const auto& name : option->get_lnames()) patterns += (patterns.empty() ? "--" : "|--") + name;
    for (const auto& name : option->get_lnames()) names += (names.empty() ? "--" : " --") + name;
    if (!takes_value(*option)) continue;
    const std::string type_name = option->get_type_name();
    const std::vector<std::string> words = choice_words(type_name);
    if (type_name.find("FILE") != std::string::npos) {
      cases += "    " + patterns + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    } else if (!words.empty()) {
      std::string listed;
      for (const auto& word : words) listed += (listed.empty() ? "" : " ") + word;
      cases += "    " + patterns + ") COMPREPLY=($(compgen -W \"" + listed + "\" -- \"$cur\")); return ;;\n";
    } else {
      cases += "    " + patterns + ") return ;;\n";  // a value of the user's own
    }
  }
  const std::string function = shell_name(program);
  return "# bash completion for " + program + " (made by " + program + " --bash-completion)\n" + function +
         "() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
         "  COMPREPLY=()\n"
         "  case \"$prev\" in\n" +
         cases +
         "  esac\n"
         "  if [[ \"$cur\" == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"" +
         names +
         "\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F " +
         function + " " + program + "\n";
}

}  // namespace ringfile::programs
