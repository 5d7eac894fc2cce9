#include <ladle/core/error.hpp>

#include <doctest/doctest.h>

#include <string>

// The file's own namespace: the suite also builds as one translation unit, where
// LADLE_TEST_FILE names a namespace unique to this file (tests/CMakeLists.txt).
namespace {
namespace LADLE_TEST_FILE {

TEST_CASE("errors derive from ladle::error and the matching std exception") {
  try {
    ladle::throw_invalid_argument("smote", "k", "must be < 5, got ", 7);
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg == "ladle::smote: 'k' must be < 5, got 7");
    const auto* le = dynamic_cast<const ladle::error*>(&e);
    REQUIRE(le != nullptr);
    CHECK(le->function() == "ladle::smote");
    CHECK(le->argument() == "k");
    CHECK(std::string(le->what()) == msg);
  }
  CHECK_THROWS_AS(ladle::throw_domain_error("f", "x", "NaN"), std::domain_error);
  CHECK_THROWS_AS(ladle::throw_domain_error("f", "x", "NaN"), ladle::error);
  CHECK_THROWS_AS(ladle::throw_runtime_error("f", "", "io"), std::runtime_error);
  CHECK_THROWS_WITH(ladle::throw_runtime_error("read", "", "short file"),
                    "ladle::read: short file");
}

TEST_CASE("LADLE_ASSERT routes to the handler the test suite installed") {
  CHECK_NOTHROW(LADLE_ASSERT(1 + 1 == 2, "arithmetic"));
  CHECK_THROWS_AS(LADLE_ASSERT(1 + 1 == 3, "arithmetic"), ladle::assertion_failure);
  try {
    LADLE_ASSERT(false, "the message");
  } catch (const ladle::assertion_failure& e) {
    CHECK(std::string(e.what()).find("the message") != std::string::npos);
  }
}

}  // namespace LADLE_TEST_FILE
}  // namespace
