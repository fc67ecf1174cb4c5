// The test binary: doctest, or one of the child roles when re-executed by a multi-process test.
#include <doctest/doctest.h>

#include <csignal>
#include <cstring>

#include "support/child_process.hpp"

int main(int argc, char** argv) {
  // A child that died early must fail the test that writes to it, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc >= 3 && std::strcmp(argv[1], "--child") == 0) {
    return ringfile::test::run_child_role(argc - 2, argv + 2);
  }
  doctest::Context context(argc, argv);
  return context.run();
}
