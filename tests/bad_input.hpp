// The bad-input matrix harness shared by every family's bad_input_test.cpp.
//
// A matrix is a table of cases: a name, the ladle::error type expected, message fragments the
// error must contain (the public function and the argument), the call, and the input buffers the
// call must leave bit-identical. run_matrix() checks all three for every row and returns how many
// rows ran, so each family can report the size of its matrix.
#pragma once

#include <ladle/core/error.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace bad {

enum class kind { invalid, domain, runtime };

/// A region of memory a case promises not to modify.
struct guard {
  const void* data;
  std::size_t bytes;
};

template <class C>
guard of(const C& c) {
  return {static_cast<const void*>(c.data()), c.size() * sizeof(*c.data())};
}

struct row {
  std::string name;
  kind expect;
  std::vector<std::string> fragments;
  std::function<void()> call;
  std::vector<guard> inputs;
};

inline const char* kind_name(kind k) {
  return k == kind::invalid ? "ladle::invalid_argument"
         : k == kind::domain ? "ladle::domain_error"
                             : "ladle::runtime_error";
}

/// Runs one row; returns true when every check passed.
inline void run_row(const row& r) {
  std::vector<std::vector<unsigned char>> before;
  for (const guard& g : r.inputs) {
    const auto* p = static_cast<const unsigned char*>(g.data);
    before.emplace_back(p, p + g.bytes);
  }
  std::string what;
  bool right_type = false, threw = false;
  try {
    r.call();
  } catch (const ladle::invalid_argument& e) {
    threw = true;
    what = e.what();
    right_type = r.expect == kind::invalid;
  } catch (const ladle::domain_error& e) {
    threw = true;
    what = e.what();
    right_type = r.expect == kind::domain;
  } catch (const ladle::runtime_error& e) {
    threw = true;
    what = e.what();
    right_type = r.expect == kind::runtime;
  } catch (const std::exception& e) {
    threw = true;
    what = std::string("not a ladle::error: ") + e.what();
  }
  INFO("case: " << r.name);
  INFO("message: " << what);
  INFO("expected: " << std::string(kind_name(r.expect)));
  CHECK(threw);
  CHECK(right_type);
  for (const std::string& f : r.fragments) {
    INFO("fragment: " << f);
    CHECK(what.find(f) != std::string::npos);
  }
  for (std::size_t i = 0; i < r.inputs.size(); ++i) {
    INFO("input " << i << " modified");
    CHECK(std::memcmp(before[i].data(), r.inputs[i].data, r.inputs[i].bytes) == 0);
  }
}

/// Runs every row; returns the number of cases.
inline std::size_t run_matrix(const std::vector<row>& rows) {
  for (const row& r : rows) run_row(r);
  return rows.size();
}

}  // namespace bad
