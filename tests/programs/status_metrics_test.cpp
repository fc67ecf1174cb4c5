// ringfile-status for Prometheus: a lint-clean exposition (promtool), ringfile_up for every ring
// asked for, and /metrics served over HTTP to a real client (curl). Tests of tools that are not
// installed skip, saying so.
#include <doctest/doctest.h>

#include <signal.h>

#include <string>

#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

// A ring with a detached named consumer behind, a live one, and a producer that has written.
std::string busy_ring(const WorkDir& dir) {
  const std::string ring = dir / "metrics.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "behind", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kProducer, {ring, "--synthetic", "--count", "100", "--quiet"}, dir.path()).exit_code == 0);
  return ring;
}

std::string exposition(const WorkDir& dir, const std::vector<std::string>& rings, int expected_exit) {
  std::vector<std::string> args = rings;
  args.insert(args.end(), {"--prometheus", "--interval", "100ms"});
  const Result result = run(kStatus, args, dir.path());
  INFO(result.err);
  CHECK(result.exit_code == expected_exit);
  return result.out;
}

}  // namespace

TEST_CASE("--prometheus passes promtool check metrics without a warning") {
  const auto promtool = find_in_path("promtool");
  if (!promtool) {
    MESSAGE("skipped: promtool not found (Debian package prometheus)");
    return;
  }
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  Program waiting_for(kConsumer, {ring, "--name", "live", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 2; }));
  write_file(dir / "metrics.prom", exposition(dir, {ring}, 0));
  const Result lint = run(*promtool, {"check", "metrics"}, dir.path(), {.stdin_file = dir / "metrics.prom"});
  INFO(read_file(dir / "metrics.prom"));
  CHECK(lint.exit_code == 0);
  CHECK(lint.out.empty());
  CHECK(lint.err.empty());
  waiting_for.signal(SIGTERM);
  CHECK(waiting_for.wait() == 0);
}

TEST_CASE("--prometheus: ringfile_up is 1 for each ring read and 0 for each that could not be - counters end in _total") {
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  const std::string missing = dir / "missing.ring";
  const std::string text = exposition(dir, {ring, missing}, 1);
  CHECK(text.find("# TYPE ringfile_up gauge\n") != std::string::npos);
  CHECK(text.find("ringfile_up{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(text.find("ringfile_up{ring=\"" + missing + "\"} 0\n") != std::string::npos);
  CHECK(text.find("ring=\"" + missing + "\",") == std::string::npos);  // nothing else of it
  CHECK(text.find("ringfile_consumer_slots_used{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(text.find("ringfile_producers_waiting{ring=\"" + ring + "\"} 0\n") != std::string::npos);
  // Every counter is named _total, and only counters are.
  std::size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    const std::size_t name_end = text.find(' ', at + 7);
    const std::string name = text.substr(at + 7, name_end - at - 7);
    const std::string type = text.substr(name_end + 1, text.find('\n', name_end) - name_end - 1);
    INFO(name);
    CHECK((type == "counter") == (name.size() > 6 && name.substr(name.size() - 6) == "_total"));
    at = name_end;
  }
  // Only an unreadable ring: still an exposition, for the textfile collector.
  CHECK(exposition(dir, {missing}, 1) == "# HELP ringfile_up 1 when the ring could be opened and read, 0 when not.\n"
                                         "# TYPE ringfile_up gauge\nringfile_up{ring=\"" + missing + "\"} 0\n");
}

TEST_CASE("--listen serves /metrics over HTTP to a real client, and stops cleanly on SIGTERM") {
  const auto curl = find_in_path("curl");
  if (!curl) {
    MESSAGE("skipped: curl not found (Debian package curl)");
    return;
  }
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  Program server(kStatus, {ring, "--listen", "127.0.0.1:0", "--interval", "100ms"}, dir.path());
  std::string address;
  REQUIRE(eventually([&] {
    const std::string said = server.err();
    const std::size_t at = said.find("http://");
    if (at == std::string::npos || said.find("/metrics\n", at) == std::string::npos) return false;
    address = said.substr(at + 7, said.find("/metrics", at) - at - 7);
    return true;
  }));
  const auto fetch = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all{"--silent", "--show-error", "--max-time", "10"};
    all.insert(all.end(), args.begin(), args.end());
    return run(*curl, all, dir.path());
  };
  const Result metrics = fetch({"--include", "http://" + address + "/metrics"});
  INFO(metrics.err);
  REQUIRE(metrics.exit_code == 0);
  CHECK(metrics.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(metrics.out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(metrics.out.find("ringfile_up{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(metrics.out.find("ringfile_consumer_lag_bytes{ring=\"" + ring + "\",consumer=\"behind\"") != std::string::npos);
  // Sampled anew: a producer's records show up in a later scrape.
  REQUIRE(run(kProducer, {ring, "--synthetic", "--count", "10", "--quiet"}, dir.path()).exit_code == 0);
  const std::string head = "ringfile_reserved_bytes_total{ring=\"" + ring + "\"} " +
                           std::to_string(status_of(ring, dir.path()).head) + "\n";
  CHECK(eventually([&] { return fetch({"http://" + address + "/metrics"}).out.find(head) != std::string::npos; }));
  CHECK(fetch({"--write-out", "%{http_code}", "--output", "/dev/null", "http://" + address + "/nothing"}).out == "404");
  CHECK(fetch({"--write-out", "%{http_code}", "--output", "/dev/null", "--data", "x", "http://" + address + "/metrics"})
            .out == "405");
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}
