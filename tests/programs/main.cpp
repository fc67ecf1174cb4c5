// The end-to-end test binary: doctest's main (the bridge's tests use it too).
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  // A program that died early must fail the test that writes to its stdin, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
