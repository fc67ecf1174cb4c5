#include "output_resume_point.hpp"

#include <sys/xattr.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace ringfile::consumer {
namespace {

constexpr const char* kAttributeName = "user.ringfile.resume";
constexpr std::string_view kTag = "ringfile-resume";
constexpr std::string_view kVersion = "1";
// Room for the tag, the version, three numbers of up to 20 digits, a name of up to 31 bytes.
constexpr std::size_t kMostAttributeBytes = 256;

// The next field of `text` up to a space (or its end); advances `text` past the space.
std::string_view next_field(std::string_view& text) {
  const std::size_t space = text.find(' ');
  const std::string_view field = text.substr(0, space);
  text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  return field;
}

std::optional<std::uint64_t> parse_number(std::string_view field) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size() || field.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string encode_resume_point(const ResumeOwner& owner, const ResumePoint& point) {
  return std::string(kTag) + " " + std::string(kVersion) + " " + std::to_string(owner.ring_creation_ns) + " " +
         owner.consumer_name + " " + std::to_string(point.cursor) + " " + std::to_string(point.output_bytes);
}

std::optional<ResumePoint> decode_resume_point(std::string_view text, const ResumeOwner& owner) {
  if (next_field(text) != kTag || next_field(text) != kVersion) return std::nullopt;
  const std::optional<std::uint64_t> creation = parse_number(next_field(text));
  if (!creation || *creation != owner.ring_creation_ns) return std::nullopt;
  // Names hold no spaces (ConsumerOptions::name), so the field is the whole name.
  if (next_field(text) != owner.consumer_name) return std::nullopt;
  const std::optional<std::uint64_t> cursor = parse_number(next_field(text));
  const std::optional<std::uint64_t> bytes = parse_number(next_field(text));
  if (!cursor || !bytes || !text.empty()) return std::nullopt;
  return ResumePoint{*cursor, *bytes};
}

std::optional<std::uint64_t> bytes_to_keep(const std::optional<ResumePoint>& saved, std::uint64_t cursor,
                                           std::uint64_t file_bytes) noexcept {
  if (!saved || saved->cursor != cursor || saved->output_bytes >= file_bytes) return std::nullopt;
  return saved->output_bytes;
}

std::optional<ResumePoint> OutputResumeAttribute::load() const {
  std::vector<char> text(kMostAttributeBytes);
  const ssize_t length = ::fgetxattr(fd_, kAttributeName, text.data(), text.size());
  if (length < 0) return std::nullopt;  // none (ENODATA), too long to be ours, or not kept here
  return decode_resume_point(std::string_view(text.data(), static_cast<std::size_t>(length)), owner_);
}

bool OutputResumeAttribute::store(const ResumePoint& point) const noexcept {
  try {
    const std::string text = encode_resume_point(owner_, point);
    return ::fsetxattr(fd_, kAttributeName, text.data(), text.size(), 0) == 0;
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
    return false;
  }
}

bool OutputResumeAttribute::remove() const noexcept {
  return ::fremovexattr(fd_, kAttributeName) == 0 || errno == ENODATA;
}

}  // namespace ringfile::consumer
