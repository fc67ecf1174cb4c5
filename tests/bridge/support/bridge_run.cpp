#include "support/bridge_run.hpp"

#include <cstdlib>

#include "support/json_value.hpp"

namespace ringfile::bridge_test {

using program_test::JsonValue;
using program_test::Result;

void create_ring(const program_test::WorkDir& dir, const std::string& ring, const std::vector<std::string>& options) {
  std::vector<std::string> args{ring, "--create", "--count", "0", "--quiet"};
  args.insert(args.end(), options.begin(), options.end());
  const Result created = program_test::run(program_test::kProducer, args, dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
}

Verification verify_ring(const program_test::WorkDir& dir, const std::string& ring) {
  const Result read = program_test::run(program_test::kConsumer,
                                        {ring, "--from", "earliest", "--verify", "--until-idle", "500ms", "--json", "--quiet"},
                                        dir.path());
  INFO(read.err);
  const JsonValue summary = JsonValue::parse(read.out);
  const JsonValue& verify = summary["verify"];
  Verification verification;
  verification.ok = verify["ok"].as_bool() && read.exit_code == 0;
  verification.records = verify["records"].as_uint();
  verification.producers = verify["producers"].as_uint();
  verification.missing = verify["missing"].as_uint();
  verification.duplicates = verify["duplicates"].as_uint();
  verification.corrupt = verify["corrupt"].as_uint();
  return verification;
}

unsigned repetitions(const char* variable, unsigned default_count) {
  unsigned count = default_count;
  if (const char* configured = std::getenv(variable); configured != nullptr && *configured != '\0') {
    count = static_cast<unsigned>(std::strtoul(configured, nullptr, 10));
  }
  if (const char* long_tests = std::getenv("RINGFILE_LONG_TESTS"); long_tests != nullptr && std::string(long_tests) == "1") {
    count *= 10;
  }
  return count;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace ringfile::bridge_test
