// Where a named consumer's committed cursor leaves its --output FILE, kept on the file itself as an
// extended attribute (user.ringfile.resume), so that a run killed between writing records out and
// committing the cursor past them (SIGKILL, a power cut of the process) does not write them twice:
// the next run cuts the file back to where that cursor left it, then reads them again.
//
// The order each commit keeps: the records written out (RecordSink::flush), the cursor committed,
// then the attribute updated. A run killed
//   - before the commit leaves the attribute naming the saved cursor, and the file longer than the
//     size it names: the next run, resuming at that very cursor, cuts the file back to that size;
//   - after the commit, before the attribute, leaves the attribute naming an older cursor than the
//     saved one, and the file ending where the saved cursor leaves it: nothing to cut.
// So the file is cut only where the attribute names the cursor the run resumes at: a cursor moved
// since by other means (a reset, a run with another output, a holding consumer's attach past what
// producers overwrote after its grace) cuts nothing. Kept only for a consumer that holds producers
// back (block policy), where nothing past its cursor is overwritten while it is away (within its
// grace): where producers may lap it, records cut off might be nowhere else. The point is noted
// again as a run resumes (a run killed before its first commit), and removed when a run ends
// cleanly, so that what others append to the file after it is never cut.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::consumer {

// Which ring and consumer an attribute belongs to: another ring at the same path (created since)
// or another name writing the same file must not cut it.
struct ResumeOwner {
  std::uint64_t ring_creation_ns = 0;
  std::string consumer_name;
};

struct ResumePoint {
  std::uint64_t cursor = 0;       // the cursor committed
  std::uint64_t output_bytes = 0;  // the file's size then: every record before the cursor, whole
};

// The attribute's text: "ringfile-resume 1 CREATION_NS NAME CURSOR BYTES".
std::string encode_resume_point(const ResumeOwner& owner, const ResumePoint& point);
// The point, where `text` is one encode_resume_point wrote for `owner`; else nullopt (another
// ring's or name's, another version's, or not ours at all).
std::optional<ResumePoint> decode_resume_point(std::string_view text, const ResumeOwner& owner);

// The size to cut the file of `file_bytes` back to, resuming at `cursor` with `saved` found on it;
// nullopt when nothing is to be cut.
std::optional<std::uint64_t> bytes_to_keep(const std::optional<ResumePoint>& saved, std::uint64_t cursor,
                                           std::uint64_t file_bytes) noexcept;

// The attribute on an open file.
class OutputResumeAttribute {
 public:
  OutputResumeAttribute(int fd, ResumeOwner owner) : fd_(fd), owner_(std::move(owner)) {}

  std::optional<ResumePoint> load() const;
  // False with errno set when the file system keeps no such attribute (ENOTSUP) or refuses it.
  bool store(const ResumePoint& point) const noexcept;
  // A file replaced (not appended to) starts without one. False with errno set where that failed
  // for another reason than there being none.
  bool remove() const noexcept;

 private:
  int fd_;
  ResumeOwner owner_;
};

}  // namespace ringfile::consumer
