// The on-file format: commit words, lap tags and frame strides.
#include <doctest/doctest.h>

#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"

using namespace ringfile::format;

TEST_CASE("commit word packs length, type and lap tag") {
  const std::uint64_t word = make_commit_word(1234, FrameType::data, 0xABCDEF);
  CHECK(commit_word_length(word) == 1234);
  CHECK(commit_word_type(word) == static_cast<std::uint8_t>(FrameType::data));
  CHECK(commit_word_tag(word) == 0xABCDEF);
  CHECK(commit_word_tag(make_commit_word(8, FrameType::padding, 0xFFFFFFFF)) == kLapTagMask);
}

TEST_CASE("consecutive laps never share a tag, whatever the salt") {
  const std::uint64_t capacity = 1 << 20;
  for (std::uint32_t salt : {0u, 1u, 0xDEADBEEFu}) {
    for (std::uint64_t lap = 0; lap < 5000; ++lap) {
      REQUIRE(lap_tag(lap * capacity, capacity, salt) != lap_tag((lap + 1) * capacity, capacity, salt));
      // Every position of a lap shares its tag.
      REQUIRE(lap_tag(lap * capacity, capacity, salt) == lap_tag(lap * capacity + capacity - 8, capacity, salt));
    }
  }
}

TEST_CASE("frame strides are 8-byte aligned") {
  CHECK(frame_stride(kRecordHeaderBytes) == 40);
  CHECK(frame_stride(kRecordHeaderBytes + 1) == 48);
  CHECK(frame_stride(kRecordHeaderBytes + 8) == 48);
  CHECK(align_up(4095, kPageBytes) == 4096);
}
