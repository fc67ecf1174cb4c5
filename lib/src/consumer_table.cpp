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

std::vector<DamagedSlot> clear_damaged_slots(const std::filesystem::path& path, bool dry_run) {
  OpenOptions options;
  options.read_only = dry_run;
  const std::shared_ptr<detail::RingFile> file =
      detail::RingFile::open(path, options, detail::RingFile::SlotCheck::report_only);
  return detail::free_damaged_slots(*file, dry_run);
}

}  // namespace ringfile
