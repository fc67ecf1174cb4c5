// A program's manual page and bash completion, made from the options its command line declares,
// so that they never disagree with --help. The build runs `PROGRAM --man-page` and
// `PROGRAM --bash-completion` and installs what they print.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ringfile::programs {

// roff for man(1): NAME, SYNOPSIS, DESCRIPTION, OPTIONS by group, SEE ALSO.
std::string man_page(const CLI::App& app);

// A bash completion script: option names; for an option that takes one of a fixed set of words
// (its type name is "word|word|..."), those words; files for paths.
std::string bash_completion(const CLI::App& app);

}  // namespace ringfile::programs
