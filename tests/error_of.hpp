// error_of<E>(f): the message of the E that f throws, or "<no error>" when it throws nothing, so a
// test can check that an error names the function, the argument and the value. E defaults to
// ladle::error (any exception ladle throws).
#pragma once

#include <ladle/core/error.hpp>

#include <string>

template <class E = ladle::error, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}
