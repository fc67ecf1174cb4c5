// Producer::write_batch in one process: order, framing and checksums of each record, how records
// are grouped under one claim (in a file of format version 3, one group frame; in one of version
// 2, a frame a record), and where a batch stops (a record too large, no space in time; a claim
// left open: producer_consumer_test). Reading group frames: consumer_groups_test.
// Batches from many processes, killed at random moments, are in stress_test and fault_test.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "atomics.hpp"
#include "clock.hpp"
#include "data_view.hpp"
#include "frames.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/format/record_header.hpp"
#include "slot_tables.hpp"
#include "support/file_bytes.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// Payloads and the spans write_batch takes, kept together.
struct Batch {
  std::vector<std::string> texts;
  std::vector<std::span<const std::byte>> spans() const {
    std::vector<std::span<const std::byte>> result;
    for (const std::string& text : texts) result.push_back(as_bytes(text));
    return result;
  }
};

// `count` texts of `size` bytes, each different (its index written into it).
Batch texts_of_size(std::size_t count, std::size_t size, std::size_t first_index = 0) {
  Batch batch;
  for (std::size_t index = first_index; index < first_index + count; ++index) {
    std::string text(size, static_cast<char>('a' + index % 26));
    const std::string number = std::to_string(index);
    text.replace(0, std::min(number.size(), size), number.substr(0, size));
    batch.texts.push_back(text);
  }
  return batch;
}

// A ring as a build of format version 2 made it: write_batch writes a frame a record there.
Ring create_version_2_ring(const std::filesystem::path& path, const CreateOptions& options) {
  Ring::create(path, options);
  make_version_2(path);
  return Ring::open(path);
}

// The bytes a record of `payload_bytes` takes in a group frame.
std::uint64_t entry_stride(std::size_t payload_bytes) {
  return format::kGroupEntryHeaderBytes + format::frame_stride(payload_bytes);
}

std::vector<Record> drain_records(Consumer& consumer, std::vector<std::string>* payloads) {
  std::vector<Record> records;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      records.push_back(record);
      payloads->emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) return records;
  }
}

}  // namespace

TEST_CASE("write_batch: records arrive in order, each with a position and a sequence number of its own, in one group frame") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 8192));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const Batch batch{{"one", "", std::string(100, 'x'), "four"}};
  REQUIRE(producer.write_batch(batch.spans()).records == 4);
  std::vector<std::string> payloads;
  const std::vector<Record> records = drain_records(consumer, &payloads);
  CHECK(payloads == batch.texts);
  REQUIRE(records.size() == 4);
  // One frame: its header, then the records' entries one after another.
  std::uint64_t position = format::kRecordHeaderBytes;
  for (std::size_t index = 0; index < 4; ++index) {
    INFO("record " << index);
    CHECK(records[index].position == position);
    CHECK(records[index].producer_sequence == index);
    CHECK(records[index].producer_slot == producer.slot());
    CHECK(records[index].timestamp_ns == records[0].timestamp_ns);
    position += entry_stride(batch.texts[index].size());
  }
  // The group's frame ends with its last payload, and its space runs on to the next line.
  CHECK(ring.head_position() == format::align_up(position, format::kCacheLineBytes));
  REQUIRE(producer.write(as_bytes("after")) == ClaimStatus::ok);
  const std::vector<Record> after = drain_records(consumer, &payloads);
  REQUIRE(after.size() == 1);
  CHECK(after[0].producer_sequence == 4);
  CHECK(after[0].position == format::align_up(position, format::kCacheLineBytes));
}

TEST_CASE("write_batch in a file of format version 2: records arrive in order, each in its own frame with its own sequence number") {
  TempDir dir;
  Ring ring = create_version_2_ring(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 8192));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  Batch batch = texts_of_size(100, 40);
  batch.texts.insert(batch.texts.begin() + 10, {"", "x", std::string(3000, 'm'), std::string(5000, 'L')});
  const auto spans = batch.spans();
  const BatchResult written = producer.write_batch(spans);
  CHECK(written.status == ClaimStatus::ok);
  CHECK(written.records == spans.size());
  CHECK(producer.stats().records == spans.size());

  std::vector<std::string> payloads;
  const std::vector<Record> records = drain_records(consumer, &payloads);
  CHECK(payloads == batch.texts);
  REQUIRE(records.size() == spans.size());
  std::uint64_t position = 0;
  std::size_t groups_run_on = 0;
  for (std::size_t index = 0; index < records.size(); ++index) {
    INFO("record " << index);
    CHECK(records[index].producer_sequence == index);
    // No padding between them, but where a group's space ran on to the next line.
    if (records[index].position != position) {
      CHECK(records[index].position == format::align_up(position, format::kCacheLineBytes));
      groups_run_on += 1;
    }
    position = records[index].position;
    if (index > 0) CHECK(records[index].timestamp_ns >= records[index - 1].timestamp_ns);
    position += format::frame_stride(format::kRecordHeaderBytes + records[index].payload.size());
  }
  CHECK(groups_run_on >= 1);
  CHECK((ring.head_position() == position || ring.head_position() == format::align_up(position, format::kCacheLineBytes)));
  // Single records go on with the next sequence number.
  REQUIRE(producer.write(as_bytes("after")) == ClaimStatus::ok);
  CHECK(drain_records(consumer, &payloads).at(0).producer_sequence == spans.size());
}

TEST_CASE("write_batch: each record carries its own checksum, which consumers check") {
  TempDir dir;
  bool group_frame = true;
  SUBCASE("a group frame") {}
  SUBCASE("a file of format version 2, a frame a record") { group_frame = false; }
  Ring ring = group_frame ? Ring::create(dir / "ring", small_ring(1 << 20))
                          : create_version_2_ring(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  const Batch batch = texts_of_size(8, 100);
  {
    Producer producer(ring);
    REQUIRE(producer.write_batch(batch.spans()).records == 8);
  }
  // One byte of the fifth record's payload, changed in the file behind the library's back.
  const std::uint64_t fifth_payload = group_frame
                                          ? format::kRecordHeaderBytes + 4 * entry_stride(100) + format::kGroupEntryHeaderBytes
                                          : 4 * format::frame_stride(format::kRecordHeaderBytes + 100) + format::kRecordHeaderBytes;
  {
    std::fstream file(dir / "ring", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(ring.info().data_offset + fifth_payload + 50));
    file.put('#');
  }
  std::vector<std::string> payloads;
  const PollResult polled = consumer.poll([&](const Record& record) {
    payloads.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  });
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(polled.error_message.find("checksum") != std::string::npos);
  CHECK(payloads == std::vector<std::string>(batch.texts.begin(), batch.texts.begin() + 4));
}

TEST_CASE("write_batch cuts a group frame where it would pass a maximum-size frame with the padding to the next line") {
  TempDir dir;
  // A maximum-size frame is 40 + 1024 bytes; a group of 64-byte records takes 40 + 72 a record,
  // and the padding to the next line up to 56: thirteen records to a group (1032 bytes; 14, 1104).
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 1024));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const Batch batch = texts_of_size(30, 64);
  REQUIRE(producer.write_batch(batch.spans()).records == 30);
  std::vector<std::string> payloads;
  const std::vector<Record> records = drain_records(consumer, &payloads);
  CHECK(payloads == batch.texts);
  REQUIRE(records.size() == 30);
  // Each group's frame ends with its last payload (40 + 12 * 72 + 8 + 64 = 976 bytes) and its
  // space on the next line (1024).
  for (std::size_t index = 0; index < 30; ++index) {
    INFO("record " << index);
    const std::uint64_t group = index / 13;
    CHECK(records[index].position == group * 1024 + format::kRecordHeaderBytes + (index % 13) * entry_stride(64));
    CHECK(records[index].producer_sequence == index);
    CHECK(records[index].timestamp_ns == records[group * 13].timestamp_ns);
  }
  CHECK(ring.head_position() == 2 * 1024 + format::align_up(format::kRecordHeaderBytes + 4 * entry_stride(64), format::kCacheLineBytes));
  CHECK(consumer.position() == ring.head_position());
}

TEST_CASE("write_batch in a file of format version 2: a group's space ends on a cache line where it fits, so the next group starts on a line of its own") {
  TempDir dir;
  const std::uint64_t capacity = 1 << 20;
  Ring ring = create_version_2_ring(dir / "ring", small_ring(capacity, WriterPolicy::block, 4096));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + 64);  // 104: off the lines
  // A single record of 40 bytes (an 80-byte frame) first: a single record's space is never run
  // on, so the first group starts off a line, 16 bytes past one.
  REQUIRE(producer.write(as_bytes(std::string(40, 's'))) == ClaimStatus::ok);
  CHECK(ring.head_position() == 80);
  std::vector<std::string> expected{std::string(40, 's')};
  std::uint64_t group_start = 80;
  for (std::size_t records_in_group : {2, 3, 5, 7}) {
    INFO(records_in_group << " records in the group");
    const Batch batch = texts_of_size(records_in_group, 64, expected.size());
    REQUIRE(producer.write_batch(batch.spans()).records == records_in_group);
    const std::uint64_t frames_end = group_start + records_in_group * stride;
    CHECK(ring.head_position() == format::align_up(frames_end, format::kCacheLineBytes));
    group_start = ring.head_position();
    expected.insert(expected.end(), batch.texts.begin(), batch.texts.end());
  }
  // Consumers step over the padding: every record, in order, each where its group put it.
  std::vector<std::string> payloads;
  const std::vector<Record> records = drain_records(consumer, &payloads);
  CHECK(payloads == expected);
  REQUIRE(records.size() == expected.size());
  CHECK(records[1].position == 80);
  CHECK(records[3].position == format::align_up(80 + 2 * stride, format::kCacheLineBytes));
  CHECK(consumer.position() == ring.head_position());

  // A group is cut where its frames and the padding to the next line could pass a maximum-size
  // frame (40 + 4096 bytes): 38 frames of 104 bytes and one of 168 are 4120 bytes, the next line
  // from a line 4160. The 38 go as a group (3952 bytes, to 3968), the last on its own.
  const std::uint64_t start = ring.head_position();
  REQUIRE(start % format::kCacheLineBytes == 0);
  Batch batch = texts_of_size(38, 64, expected.size());
  batch.texts.push_back(std::string(128, 'z'));
  REQUIRE(producer.write_batch(batch.spans()).records == 39);
  CHECK(ring.head_position() == start + 3968 + 168);
  std::vector<std::string> more;
  const std::vector<Record> last = drain_records(consumer, &more);
  CHECK(more == batch.texts);
  REQUIRE(last.size() == 39);
  CHECK(last[37].position == start + 37 * stride);
  CHECK(last[38].position == start + 3968);
}

namespace {

// Writes single records until the head is at `target` (@pre within this lap, at least 48 bytes
// ahead, a multiple of 8), and reads them (the consumer would hold the producer back otherwise).
void advance_head_to(Producer& producer, Consumer& consumer, const Ring& ring, std::uint64_t target) {
  const std::uint64_t stride_64 = format::frame_stride(format::kRecordHeaderBytes + 64);
  while (target - ring.head_position() >= stride_64 + 48) {
    REQUIRE(producer.write(as_bytes(std::string(64, 'f'))) == ClaimStatus::ok);
  }
  const std::uint64_t last = target - ring.head_position() - format::kRecordHeaderBytes;
  REQUIRE(producer.write(as_bytes(std::string(last, 'l'))) == ClaimStatus::ok);
  REQUIRE(ring.head_position() == target);
  drain(consumer);
  REQUIRE(consumer.position() == target);
}

// A batch whose first group just fits before the lap's end: where its records land tells where
// the groups were cut (a group never straddles the lap's end; it follows padding at the next lap).
// In a file of format version 2.
void check_groups_at_lap_end(std::uint32_t max_record_bytes, std::size_t record_bytes, std::size_t group) {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = create_version_2_ring(dir / "ring", small_ring(capacity, WriterPolicy::block, max_record_bytes));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + record_bytes);
  // One group's frames and 8 bytes to spare before the lap's end.
  const std::uint64_t first_position = capacity - group * stride - 8;
  advance_head_to(producer, consumer, ring, first_position);
  const Batch batch = texts_of_size(2 * group, record_bytes);
  REQUIRE(producer.write_batch(batch.spans()).records == 2 * group);
  std::vector<std::string> payloads;
  const std::vector<Record> records = drain_records(consumer, &payloads);
  REQUIRE(records.size() == 2 * group);
  CHECK(payloads == batch.texts);
  for (std::size_t index = 0; index < 2 * group; ++index) {
    INFO("record " << index << " of the batch");
    const std::uint64_t expected =
        index < group ? first_position + index * stride : capacity + (index - group) * stride;
    CHECK(records[index].position == expected);
    CHECK(records[index].producer_sequence == records[0].producer_sequence + index);
    // One timestamp for a group.
    CHECK(records[index].timestamp_ns == records[index / group * group].timestamp_ns);
  }
}

}  // namespace

TEST_CASE("write_batch in a file of format version 2 cuts groups at a maximum-size frame's bytes and at kMostBatchRecords; a group that does not fit before the lap's end follows padding") {
  SUBCASE("the maximum record size bounds a group") {
    // Frames of 40 + 64 = 104 bytes; a maximum-size frame is 40 + 1024 = 1064, which must also
    // hold the padding to the next line (up to 56 bytes): nine to a group (936 bytes; ten, 1040).
    check_groups_at_lap_end(1024, 64, 9);
  }
  SUBCASE("kMostBatchRecords bounds a group") {
    check_groups_at_lap_end(16384, 8, Producer::kMostBatchRecords);
  }
}

TEST_CASE("write_batch stops at a record too large for the ring; those before it are written") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 4096));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const Batch batch{{"one", "two", std::string(4097, 'x'), "four"}};
  const BatchResult written = producer.write_batch(batch.spans());
  CHECK(written.status == ClaimStatus::too_large);
  CHECK(written.records == 2);
  CHECK(drain(consumer) == std::vector<std::string>{"one", "two"});
}

TEST_CASE("write_batch waits for space up to its timeout, and then says how many records it wrote") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  // A named consumer holds producers back (block policy); it reads only between the calls.
  Consumer consumer = Consumer::attach(ring, {.name = "holder"});
  Producer producer(ring, {.idle = IdleStrategy::sleep});
  const Batch batch = texts_of_size(1000, 200);  // 240 KB of frames: more than the ring holds
  const auto spans = batch.spans();
  std::span<const std::span<const std::byte>> rest = spans;
  std::vector<std::string> payloads;
  std::size_t calls = 0;
  while (!rest.empty()) {
    const BatchResult written = producer.write_batch(rest, std::chrono::milliseconds(1));
    calls += 1;
    REQUIRE((written.status == ClaimStatus::ok || written.status == ClaimStatus::timed_out));
    CHECK(written.records > 0);  // the consumer made room for some before each call
    if (written.status == ClaimStatus::ok) CHECK(written.records == rest.size());
    rest = rest.subspan(written.records);
    const std::size_t before = payloads.size();
    drain_records(consumer, &payloads);
    CHECK(payloads.size() - before == written.records);  // exactly what it said it wrote
  }
  CHECK(calls >= 4);  // the ring holds less than a quarter of the batch at a time
  CHECK(payloads == batch.texts);
}

TEST_CASE("write_batch: consumers attaching at the head while a group is open count no records lost") {
  // A group's claim covers several records below the new consumer's start: how many is not in
  // the producer slot, so the consumer must not guess the next sequence from it.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 16384));
  std::atomic<bool> stop{false};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    Producer producer(ring);
    const Batch batch = texts_of_size(Producer::kMostBatchRecords, 8);
    const auto spans = batch.spans();
    while (!stop.load() && !writer_failed.load()) {
      if (producer.write_batch(spans).records != spans.size()) writer_failed.store(true);
    }
  });
  struct StopWriter {
    std::atomic<bool>& stop;
    std::thread& writer;
    ~StopWriter() {
      stop.store(true);
      writer.join();
    }
  } stop_writer{stop, writer};
  std::uint64_t lost = 0;
  for (int attach = 0; attach < 200; ++attach) {
    Consumer consumer = Consumer::attach(ring, {.start = StartFrom::latest});
    std::uint64_t records = 0;
    while (records < 2 * Producer::kMostBatchRecords) {
      const PollResult polled = consumer.poll([](const Record&) {});
      REQUIRE(polled.status == PollStatus::ok);
      records += polled.records;
      REQUIRE_FALSE(writer_failed.load());
      if (polled.records == 0) REQUIRE(consumer.wait(std::chrono::seconds(60)));
    }
    lost += consumer.stats().lost_records;
  }
  CHECK(lost == 0);
}

TEST_CASE("write_batch in a file of format version 2: a group's first frame is committed last, so whoever finds it committed finds the whole group") {
  // What lets a consumer pad a stalled group over from its first frame and lose none of it that
  // anyone read (producer_batch.cpp, commit_group). Watched from another thread as the groups go
  // by: each time the first frame of an open claim reads committed, its last frame must not still
  // hold an earlier lap's word (or none, on the first lap). Committed front to back, it does for
  // most of each group's life.
  constexpr std::size_t kGroupRecords = 8;
  constexpr std::size_t kRecordBytes = 64;
  constexpr std::uint64_t kSamples = 2000;
  TempDir dir;
  Ring ring = create_version_2_ring(dir / "ring", small_ring(1 << 20, WriterPolicy::overwrite));
  Producer producer(ring);
  detail::RingFile& file = detail::file_of(ring);
  const detail::Geometry& geometry = file.geometry();
  const format::ProducerSlot& slot = file.header().producers[producer.slot()];
  detail::DataView view(file, detail::DataView::Access::read_only);
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + kRecordBytes);
  std::atomic<bool> watched{false};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    const Batch batch = texts_of_size(kGroupRecords, kRecordBytes);
    const auto spans = batch.spans();
    while (!watched.load() && !writer_failed.load()) {
      if (producer.write_batch(spans).records != spans.size()) writer_failed.store(true);
    }
  });

  std::uint64_t samples = 0;
  std::uint64_t torn_groups = 0;
  bool mapped = true;
  while (samples < kSamples && !writer_failed.load()) {
    const detail::OpenClaim claim = detail::read_claim(slot);
    // A group after padding to the lap's end has a longer claim: not watched.
    if (claim.end - claim.start != kGroupRecords * stride) continue;
    const std::uint64_t last = claim.end - stride;
    std::byte* first_frame = view.at(geometry.offset_of(claim.start), stride);
    std::byte* last_frame = view.at(geometry.offset_of(last), stride);
    mapped = first_frame != nullptr && last_frame != nullptr;
    if (!mapped) break;
    // Acquire, both: the first frame's word, then the last's, in that order.
    const std::uint64_t first_word = detail::atomic_field(detail::commit_word_of(first_frame)).load(std::memory_order_acquire);
    if (format::commit_word_length(first_word) == 0 ||
        format::commit_word_tag(first_word) != geometry.tag_of(claim.start)) {
      continue;  // not committed yet (or already a newer lap's)
    }
    const std::uint64_t last_word = detail::atomic_field(detail::commit_word_of(last_frame)).load(std::memory_order_acquire);
    const bool earlier_lap = last < geometry.capacity
                                 ? format::commit_word_length(last_word) == 0
                                 : format::commit_word_tag(last_word) == geometry.tag_of(last - geometry.capacity);
    if (earlier_lap) torn_groups += 1;
    samples += 1;
  }
  watched.store(true);
  writer.join();
  REQUIRE(mapped);
  REQUIRE_FALSE(writer_failed.load());
  CHECK(torn_groups == 0);
}

TEST_CASE("a boundary search does not start a reader inside an open group of frames (format version 2), where frames after the first may read committed") {
  // A reader started at a later frame of a group that is then padded over from its first frame
  // would have read records that write_batch reports unwritten, and writes again.
  TempDir dir;
  Ring ring = create_version_2_ring(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  const Batch batch = texts_of_size(4, 64);
  REQUIRE(producer.write_batch(batch.spans()).records == 4);
  detail::RingFile& file = detail::file_of(ring);
  const detail::Geometry& geometry = file.geometry();
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + 64);
  // The group's space runs on to the next line, padding after its frames.
  const std::uint64_t head = format::align_up(4 * stride, format::kCacheLineBytes);
  REQUIRE(detail::load_field(file.header().head_position.value, std::memory_order_acquire) == head);
  detail::DataView view(file, detail::DataView::Access::read_only);
  REQUIRE(detail::find_boundary(view, stride, head, geometry, file.header().producers) == stride);

  // The same frames under a claim still open, as a group between its last frames' commits and
  // its first's (published in a slot nobody uses).
  format::ProducerSlot& spare = file.header().producers[format::kProducerSlotCount - 1];
  detail::publish_claim(spare, {0, head, detail::coarse_realtime_ns()});
  CHECK(detail::find_boundary(view, stride, head, geometry, file.header().producers) == head);
  detail::publish_claim(spare, {head, head, 0});
}
