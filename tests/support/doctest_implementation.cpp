// doctest's implementation, in a file of its own: every test binary links it (tests/CMakeLists.txt)
// and each main only runs a doctest::Context.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
