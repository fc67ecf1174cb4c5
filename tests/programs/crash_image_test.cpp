// Crash images: a ring copied as a crash leaves it, then read from the earliest record and from
// a named cursor. Every record handed out is intact and in order, every loss is reported, a
// named cursor past what survived is refused with a clear message, ringfile-status reads every
// image, and what the README's "What survives what" promises for each sync policy is there.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>

#include "ringfile/consumer.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/crash_images.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile;
using namespace ringfile::program_test;

namespace {

std::uint64_t random_seed() {
  const std::uint64_t seed = std::random_device{}();
  MESSAGE("random seed " << seed);
  return seed;
}

// What a reader of any image must show, whatever survived.
void check_read(const ImageRead& read) {
  CHECK(read.corrupt_payloads == 0);
  for (const auto& [producer, sequences] : read.sequences) {
    const std::uint64_t id = producer;  // a copy: INFO captures it (clang refuses bindings)
    INFO("producer " << id);
    CHECK(std::is_sorted(sequences.begin(), sequences.end()));
    CHECK(std::adjacent_find(sequences.begin(), sequences.end()) == sequences.end());  // no duplicate
  }
  // A gap in what it read is a loss it reported (bytes skipped past damage, or lapped).
  if (read.missing > 0) CHECK(read.lost_bytes > 0);
}

bool delivered(const ImageRead& read, std::uint64_t id, std::uint64_t sequence) {
  const auto found = read.sequences.find(id);
  return found != read.sequences.end() && std::binary_search(found->second.begin(), found->second.end(), sequence);
}

// Status reads every image. Its one complaint may be a consumer's cursor beyond the head (the
// slot's page written back after the head's last was): DAMAGED, and exit 1.
void check_status(const WorkDir& dir, const std::string& image) {
  const Result status = run(kStatus, {image, "--json", "--interval", "0"}, dir.path());
  INFO(status.err);
  const StatusDocument document = parse_status_document(status.out.substr(0, status.out.find('\n')));
  CHECK(document.path == image);
  bool damaged = false;
  for (const StatusConsumer& consumer : document.consumers) {
    if (consumer.state != "DAMAGED") continue;
    damaged = true;
    CHECK(consumer.position > document.head);
    CHECK(status.err.find("is beyond the head") != std::string::npos);
  }
  const int expected_exit = damaged ? 1 : 0;
  CHECK(status.exit_code == expected_exit);
  CHECK(run(kStatus, {image, "--interval", "0"}, dir.path()).exit_code == expected_exit);
}

struct Written {
  std::uint64_t id = 0;
  std::uint64_t sequence = 0;
  std::uint64_t position = 0;  // the head before it was written: at or before its frame
  bool synced = false;         // committed before the last fdatasync
};

enum class Durability { none, sync_bytes, flush };

// One process writes with two producers and reads with a named consumer; at random moments
// the file as the disk may hold it after a power cut is written out and read.
void machine_crash_images(Durability durability) {
  WorkDir dir;
  const std::string path = dir / "ring";
  CreateOptions create{.capacity_bytes = 256 * 1024, .max_record_bytes = 2048};
  create.unblock_timeout = std::chrono::milliseconds(100);  // damage is reported this fast
  Ring ring = Ring::create(path, create);
  constexpr std::uint64_t kFlushBytes = 16 * 1024;
  ProducerOptions producer_options;
  if (durability == Durability::sync_bytes) producer_options.sync = {.mode = SyncPolicy::Mode::bytes, .bytes = kFlushBytes};
  std::vector<Producer> producers;
  producers.emplace_back(ring, producer_options);
  producers.emplace_back(ring, producer_options);
  Consumer archive = Consumer::attach(ring, {.name = "archive"});
  std::mt19937_64 random(random_seed());

  FileBytes synced = read_bytes(path);        // what the disk holds for certain
  std::vector<FileBytes> earlier{synced};     // without sync: any earlier state it may still hold
  std::vector<Written> written;
  std::uint64_t next_sequence[2] = {0, 0};
  std::uint64_t unflushed[2] = {0, 0};
  const auto mark_synced = [&] {
    synced = read_bytes(path);
    for (Written& record : written) record.synced = true;
  };
  std::vector<std::byte> payload(2048);
  for (int image = 0; image < 5; ++image) {
    const std::uint64_t records = 20 + random() % 150;
    for (std::uint64_t count = 0; count < records; ++count) {
      const std::uint64_t id = random() % 2;
      const std::size_t size = 24 + random() % 1500;
      fill_synthetic({payload.data(), size}, id, next_sequence[id]);
      const std::uint64_t position = ring.head_position();
      // The archive holds the producers back: when the ring is full it reads first.
      while (producers[id].write({payload.data(), size}, std::chrono::nanoseconds(0)) != ClaimStatus::ok) {
        REQUIRE(archive.poll([](const Record&) {}).status == PollStatus::ok);
      }
      written.push_back({id, next_sequence[id]++, position, false});
      if (durability == Durability::sync_bytes && (unflushed[id] += size) >= kFlushBytes) {
        unflushed[id] = 0;  // the producer has just called fdatasync, as its policy says
        mark_synced();
      }
      if (durability == Durability::flush && random() % 50 == 0) {
        REQUIRE(producers[id].flush());
        mark_synced();
      }
      if (durability == Durability::none && random() % 25 == 0) earlier.push_back(read_bytes(path));
      if (random() % 6 == 0) archive.poll([](const Record&) {}, random() % 32);
    }
    const std::uint64_t head = ring.head_position();
    const std::uint64_t archive_cursor = archive.position();
    const FileBytes now = read_bytes(path);
    const FileBytes& older = durability == Durability::none ? earlier[random() % earlier.size()] : synced;
    const FileBytes crashed = mix_pages(now, older, random);
    const std::string from_earliest = dir / ("image-" + std::to_string(image) + "-a");
    const std::string from_name = dir / ("image-" + std::to_string(image) + "-b");
    const std::string for_program = dir / ("image-" + std::to_string(image) + "-c");
    for (const std::string& copy : {from_earliest, from_name, for_program}) {
      write_bytes(copy, crashed);
      forget_owners(copy);
    }
    check_status(dir, from_earliest);

    const ImageRead earliest = read_image(from_earliest, {.start = StartFrom::earliest});
    // ringfile-consumer reads on past the damage when asked to, verifying what it hands out.
    const Result program = run(kConsumer, {for_program, "--from", "earliest", "--verify", "--skip-damaged",
                                           "--until-idle", "300ms", "--json", "--quiet"}, dir.path());
    {
      INFO(program.err);
      REQUIRE(program.exit_code == 0);
      CHECK(JsonValue::parse(program.out)["verify"]["corrupt"].as_uint() == 0);
      CHECK(JsonValue::parse(program.out)["verify"]["duplicates"].as_uint() == 0);
    }
    INFO("image " << image << ": head " << head << ", " << earliest.records << " records read from the earliest, "
                  << earliest.damage_reports << " damage reports, " << earliest.lost_bytes << " bytes lost");
    REQUIRE_FALSE(earliest.attach_error.has_value());
    check_read(earliest);
    const ImageRead named = read_image(from_name, {.name = "archive"});
    if (named.attach_error) {
      // Its cursor survived, the records before it did not: refused, saying why and what to do.
      CHECK(named.attach_error->find("beyond the ring's head") != std::string::npos);
      CHECK(named.attach_error->find("--from") != std::string::npos);
    } else {
      check_read(named);
    }
    // The promise: every record committed before the last fdatasync is there, intact, for a
    // reader from the earliest record (which starts an eighth of the ring past the oldest byte)
    // and for the named consumer (from where it had committed).
    std::uint64_t promised = 0;
    for (const Written& record : written) {
      if (!record.synced) continue;
      INFO("producer " << record.id << " record " << record.sequence << " at " << record.position);
      if (record.position + 3 * create.capacity_bytes / 4 >= head) {
        ++promised;
        CHECK(delivered(earliest, record.id, record.sequence));
      }
      if (!named.attach_error && record.position >= archive_cursor) CHECK(delivered(named, record.id, record.sequence));
    }
    MESSAGE("image " << image << ": " << promised << " records promised; read " << earliest.records
                     << " from the earliest (" << earliest.damage_reports << " damage reports, " << earliest.lost_bytes
                     << " bytes lost), " << named.records << " from the named cursor"
                     << std::string(named.attach_error ? " (refused: cursor beyond the head)" : ""));
    if (durability == Durability::none) earlier.push_back(now);
  }
}

bool any_producer_alive(const Ring& ring) {
  const auto producers = ring.producers();
  return std::any_of(producers.begin(), producers.end(), [](const ProducerInfo& p) { return p.alive; });
}

}  // namespace

TEST_CASE("process crash images: copies of a ring whose every process was SIGKILLed at a random moment") {
  WorkDir dir;
  const std::string path = dir / "ring";
  REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  Ring ring = Ring::open(path, {.read_only = true});
  std::mt19937_64 random(random_seed());
  for (int image = 0; image < 4; ++image) {
    const std::string sync = image % 2 == 0 ? "none" : "interval:50ms";
    auto producers = std::make_unique<Program>(
        kProducer, std::vector<std::string>{path, "--synthetic", "--procs", "2", "--record-size", "24-2K", "--rate", "20M",
                                            "--sync", sync, "--quiet"},
        dir.path());
    auto archive = std::make_unique<Program>(kConsumer, std::vector<std::string>{path, "--name", "archive", "--verify", "--quiet"},
                                             dir.path());
    // A random moment: after the head has moved on by a random stretch, with both writing.
    const std::uint64_t until = ring.head_position() + 64 * 1024 + random() % (2 << 20);
    const auto alive_producers = [&] {
      const auto all = ring.producers();
      return std::count_if(all.begin(), all.end(), [](const ProducerInfo& producer) { return producer.alive; });
    };
    REQUIRE(eventually([&] { return ring.head_position() >= until && alive_producers() == 2; }));
    for (const ProducerInfo& producer : ring.producers()) {
      if (producer.alive) ::kill(static_cast<pid_t>(producer.pid), SIGKILL);
    }
    archive->signal(SIGKILL);
    producers->signal(SIGKILL);
    CHECK(archive->wait() == 128 + SIGKILL);
    producers->wait();
    REQUIRE(eventually([&] { return !any_producer_alive(ring); }));

    const FileBytes crashed = read_bytes(path);
    const std::string for_library = dir / ("image-" + std::to_string(image) + "-a");
    const std::string for_name = dir / ("image-" + std::to_string(image) + "-b");
    const std::string for_program = dir / ("image-" + std::to_string(image) + "-c");
    for (const std::string& copy : {for_library, for_name, for_program}) write_bytes(copy, crashed);
    check_status(dir, for_library);
    INFO("image " << image << " (--sync " << sync << ")");
    // The page cache outlives processes: nothing committed is lost, nothing is damaged.
    for (const std::string& copy : {for_library, for_name}) {
      const ImageRead read =
          read_image(copy, copy == for_library ? ConsumerOptions{.start = StartFrom::earliest} : ConsumerOptions{.name = "archive"});
      REQUIRE_FALSE(read.attach_error.has_value());
      check_read(read);
      CHECK(read.damage_reports == 0);
      CHECK(read.missing == 0);
      CHECK(read.lost_bytes == 0);
    }
    const Result resumed =
        run(kConsumer, {for_program, "--name", "archive", "--verify", "--until-idle", "300ms", "--json", "--quiet"}, dir.path());
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    const JsonValue verify = JsonValue::parse(resumed.out)["verify"];
    CHECK(verify["ok"].as_bool());
    CHECK(verify["missing"].as_uint() == 0);
    CHECK(verify["corrupt"].as_uint() == 0);
  }
}

TEST_CASE("machine crash images without sync: whatever survived is read intact and in order, losses reported") {
  machine_crash_images(Durability::none);
}

TEST_CASE("machine crash images with --sync bytes: every record committed before the last flush survives") {
  machine_crash_images(Durability::sync_bytes);
}

TEST_CASE("machine crash images after Producer::flush(): every record committed before it survives") {
  machine_crash_images(Durability::flush);
}

TEST_CASE("--sync interval: the background fdatasync leaves no dirty page of the ring behind") {
  // What the interval promise rests on; the kernel alone would keep them dirty for ~30 s.
  WorkDir dir;
  Ring ring = Ring::create(dir / "ring", {.capacity_bytes = 1 << 20, .max_record_bytes = 4096});
  if (!ring.residency().dirty_bytes) {
    MESSAGE("skipped: this kernel reports no dirty page counts (cachestat(2) is missing)");
    return;
  }
  Producer producer(ring, {.sync = {.mode = SyncPolicy::Mode::interval, .interval = std::chrono::milliseconds(100)}});
  std::vector<std::byte> payload(4000);
  for (std::uint64_t sequence = 0; sequence < 200; ++sequence) {
    fill_synthetic(payload, 1, sequence);
    REQUIRE(producer.write(payload) == ClaimStatus::ok);
  }
  // The deadline is generous: on ext4 an fdatasync waits for the journal, which other processes'
  // heavy writes can hold up for seconds on a busy machine (seen here at 10 s).
  std::uint64_t dirty = 0;
  INFO("dirty bytes left: " << dirty);  // doctest reads it when the check fails
  CHECK(eventually([&] { return (dirty = ring.residency().dirty_bytes.value_or(1)) == 0; }, std::chrono::seconds(60)));
}
