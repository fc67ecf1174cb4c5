// Consumer names: the rule a name must follow to be saved in a slot, and how a name read from a
// slot is shown. Names appear in tables, JSON and Prometheus labels, and on operators' terminals.
#pragma once

#include <string>
#include <string_view>

namespace ringfile::detail {

// What is wrong with `name` as a consumer name, as the end of a sentence about it ("holds a
// space; use ..."); empty when it is a valid one: UTF-8 shorter than the slot's field, without
// spaces, characters that show as nothing, control characters, line separators, bidirectional
// controls or backslashes.
std::string consumer_name_problem(std::string_view name);

// A name read from a slot, as it may be shown: any process that can write the file can store
// anything there, and a terminal takes control bytes as commands. Bytes the rule refuses are
// written as \xNN and a backslash as \\ (a valid name holds none, so an escape is unambiguous); a
// valid name is returned as it is.
std::string printable_consumer_name(std::string_view name);

}  // namespace ringfile::detail
