#include "support/option_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "support/byte_size.hpp"
#include "support/setup_error.hpp"

namespace ringfile::bench {

namespace {

template <class Integer>
bool parse_integer(std::string_view text, Integer* target) {
  Integer value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return false;
  *target = value;
  return true;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) joined += (joined.empty() ? "" : ",") + item;
  return joined;
}

}  // namespace

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

OptionParser::OptionParser(std::string program_name, std::string summary)
    : program_name_(std::move(program_name)), summary_(std::move(summary)) {}

void OptionParser::add(Option option) { options_.push_back(std::move(option)); }

void OptionParser::add_flag(std::string name, bool* target, std::string help) {
  add({std::move(name), std::move(help), "", false, [target](std::string_view) {
         *target = true;
         return true;
       }});
}

void OptionParser::add_byte_size(std::string name, std::uint64_t* target, std::string help) {
  add({std::move(name), std::move(help), format_byte_size(*target), true,
       [target](std::string_view text) {
         const auto bytes = parse_byte_size(text);
         if (bytes) *target = *bytes;
         return bytes.has_value();
       }});
}

void OptionParser::add_count(std::string name, std::uint64_t* target, std::string help) {
  add({std::move(name), std::move(help), std::to_string(*target), true,
       [target](std::string_view text) { return parse_integer(text, target); }});
}

void OptionParser::add_int(std::string name, int* target, std::string help) {
  add({std::move(name), std::move(help), std::to_string(*target), true,
       [target](std::string_view text) { return parse_integer(text, target); }});
}

void OptionParser::add_text(std::string name, std::string* target, std::string help) {
  add({std::move(name), std::move(help), *target, true, [target](std::string_view text) {
         *target = std::string(text);
         return true;
       }});
}

void OptionParser::add_list(std::string name, std::vector<std::string>* target, std::string help) {
  add({std::move(name), std::move(help), join_list(*target), true, [target](std::string_view text) {
         *target = split_list(text);
         return !target->empty();
       }});
}

bool OptionParser::parse(int argc, char** argv) {
  for (int index = 1; index < argc; ++index) {
    std::string_view argument = argv[index];
    if (argument == "--help" || argument == "-h") {
      std::fputs(usage().c_str(), stdout);
      return false;
    }
    std::string_view inline_value;
    bool has_inline_value = false;
    if (const std::size_t equals = argument.find('='); equals != std::string_view::npos) {
      inline_value = argument.substr(equals + 1);
      argument = argument.substr(0, equals);
      has_inline_value = true;
    }
    const auto option = std::find_if(options_.begin(), options_.end(),
                                     [&](const Option& known) { return known.name == argument; });
    if (option == options_.end()) {
      throw SetupError("unknown option " + std::string(argument) + " (see " + program_name_ +
                       " --help)");
    }
    std::string_view value = inline_value;
    if (option->takes_value && !has_inline_value) {
      if (index + 1 >= argc) throw SetupError("option " + option->name + " needs a value");
      value = argv[++index];
    }
    if (!option->takes_value && has_inline_value) {
      throw SetupError("option " + option->name + " takes no value");
    }
    if (!option->assign(value)) {
      throw SetupError("option " + option->name + ": cannot use '" + std::string(value) + "'");
    }
    given_.push_back(option->name);
  }
  return true;
}

bool OptionParser::was_given(std::string_view name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

std::string OptionParser::usage() const {
  std::string text = "usage: " + program_name_ + " [options]\n" + summary_ + "\n\noptions:\n";
  for (const Option& option : options_) {
    std::string left = "  " + option.name + (option.takes_value ? " VALUE" : "");
    left.resize(std::max<std::size_t>(left.size() + 2, 28), ' ');
    text += left + option.help;
    if (option.takes_value && !option.default_text.empty()) {
      text += " (default " + option.default_text + ")";
    }
    text += "\n";
  }
  text += "  --help                    this text\n";
  return text;
}

}  // namespace ringfile::bench
