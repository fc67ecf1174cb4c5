#include <algorithm>

#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

// A function-local static, so registrations from other files' static initialisers find it
// constructed whatever the order the linker gave those files.
std::vector<WriterKind>& registered_kinds() {
  static std::vector<WriterKind> kinds;
  return kinds;
}

}  // namespace

WriterKindRegistration::WriterKindRegistration(const WriterKind& kind) {
  registered_kinds().push_back(kind);
}

const std::vector<WriterKind>& writer_kinds() { return registered_kinds(); }

const WriterKind* find_writer_kind(std::string_view name) {
  const auto& kinds = registered_kinds();
  const auto found = std::find_if(kinds.begin(), kinds.end(),
                                  [name](const WriterKind& kind) { return kind.name == name; });
  return found == kinds.end() ? nullptr : &*found;
}

}  // namespace ringfile::bench::wrap
