// The public calls of ringfile/consumer_table.hpp; the work is in slot_life_cycle.cpp.
#include "ringfile/consumer_table.hpp"

#include "ring_access.hpp"
#include "slot_life_cycle.hpp"

namespace ringfile {

CursorReset reset_consumer(const Ring& ring, const std::string& name, const Seek& target, bool dry_run) {
  return detail::reset_named_consumer(detail::file_of_given(ring), name, target, dry_run);
}

void delete_consumer(const Ring& ring, const std::string& name) {
  detail::delete_named_consumer(detail::file_of_given(ring), name);
}

}  // namespace ringfile
