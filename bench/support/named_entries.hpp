// The benchmarks' fixed lists of what they compare (transports, writer kinds, modes): each entry
// has a `name` that the command line picks it by.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace ringfile::bench {

// The entry called `name`, or nullptr.
template <class Entry>
const Entry* find_by_name(std::span<const Entry> entries, std::string_view name) {
  for (const Entry& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// "a, b, c": for --help and for the error naming an unknown one.
template <class Entry>
std::string names_of(std::span<const Entry> entries) {
  std::string names;
  for (const Entry& entry : entries) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

}  // namespace ringfile::bench
