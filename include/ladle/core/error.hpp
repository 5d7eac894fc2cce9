// ladle/core/error.hpp: the exceptions ladle throws and the LADLE_ASSERT precondition hook.
//
// Three tiers (see docs/design.md):
//  * misuse of types            -> static_assert with a sentence;
//  * bad data or arguments      -> a ladle::error whose message names function, argument, value;
//  * broken internal invariant  -> LADLE_ASSERT, routed to an overridable handler.
//
// Every ladle exception derives from ladle::error *and* from the matching std exception, so both
// `catch (const ladle::error&)` and `catch (const std::invalid_argument&)` work.
#pragma once

#include "ladle/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ladle {

/// Common base of every exception ladle throws.
class error {
 public:
  virtual ~error() = default;
  /// The full message: "ladle::<function>: <argument> ...".
  virtual const char* what() const noexcept = 0;
  /// The ladle function that refused ("ladle::smote").
  const std::string& function() const noexcept { return function_; }
  /// The argument at fault ("k"), or empty.
  const std::string& argument() const noexcept { return argument_; }

 protected:
  error(std::string function, std::string argument)
      : function_(std::move(function)), argument_(std::move(argument)) {}
  error(const error&) = default;
  error& operator=(const error&) = default;

 private:
  std::string function_;
  std::string argument_;
};

/// An argument is malformed: shapes disagree, a count is out of range, a view is on the wrong device.
class invalid_argument : public std::invalid_argument, public error {
 public:
  invalid_argument(const std::string& function, const std::string& argument,
                   const std::string& message)
      : std::invalid_argument(message), error(function, argument) {}
  const char* what() const noexcept override { return std::invalid_argument::what(); }
};

/// Values are outside the domain the algorithm accepts: NaN/Inf, negative weights, empty classes.
class domain_error : public std::domain_error, public error {
 public:
  domain_error(const std::string& function, const std::string& argument,
               const std::string& message)
      : std::domain_error(message), error(function, argument) {}
  const char* what() const noexcept override { return std::domain_error::what(); }
};

/// A failure that does not come from the arguments: I/O, allocation limits, a host callback.
class runtime_error : public std::runtime_error, public error {
 public:
  runtime_error(const std::string& function, const std::string& argument,
                const std::string& message)
      : std::runtime_error(message), error(function, argument) {}
  const char* what() const noexcept override { return std::runtime_error::what(); }
};

/// Thrown by the test-suite assertion handler (see LADLE_ASSERT_HANDLER); never by default.
class assertion_failure : public std::logic_error, public error {
 public:
  explicit assertion_failure(const std::string& message)
      : std::logic_error(message), error("", "") {}
  const char* what() const noexcept override { return std::logic_error::what(); }
};

namespace detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  os.precision(9);
  (os << ... << parts);
  return os.str();
}

template <class Error>
[[noreturn]] void raise(const Error& e) {
#if LADLE_HAS_EXCEPTIONS
  throw e;
#else
  std::fprintf(stderr, "%s\n", e.what());
  std::abort();
#endif
}

/// Builds "ladle::<fn>: <argument>: <message>" and throws Error.
template <class Error, class... Parts>
[[noreturn]] void fail(const char* function, const char* argument, const Parts&... message) {
  std::string text = concat("ladle::", function, ": ");
  if (argument != nullptr && argument[0] != '\0') text += concat("'", argument, "' ");
  text += concat(message...);
  raise(Error(concat("ladle::", function), argument ? argument : "", text));
}

}  // namespace detail

/// Throws ladle::invalid_argument with a message naming function and argument.
template <class... Parts>
[[noreturn]] void throw_invalid_argument(const char* function, const char* argument,
                                         const Parts&... message) {
  detail::fail<invalid_argument>(function, argument, message...);
}

/// Throws ladle::domain_error with a message naming function and argument.
template <class... Parts>
[[noreturn]] void throw_domain_error(const char* function, const char* argument,
                                     const Parts&... message) {
  detail::fail<domain_error>(function, argument, message...);
}

/// Throws ladle::runtime_error with a message naming function and argument.
template <class... Parts>
[[noreturn]] void throw_runtime_error(const char* function, const char* argument,
                                      const Parts&... message) {
  detail::fail<runtime_error>(function, argument, message...);
}

namespace detail {

[[noreturn]] inline void default_assert_handler(const char* condition, const char* file, int line,
                                                const char* message) {
  std::fprintf(stderr, "ladle: assertion '%s' failed at %s:%d: %s\n", condition, file, line,
               message);
  std::abort();
}

[[noreturn]] inline void throwing_assert_handler(const char* condition, const char* file, int line,
                                                 const char* message) {
  raise(assertion_failure(concat("ladle: assertion '", condition, "' failed at ", file, ":", line,
                                 ": ", message)));
}

}  // namespace detail
}  // namespace ladle

// LADLE_ASSERT_HANDLER(condition, file, line, message): define it before including ladle (the same
// way in every translation unit) to route broken preconditions elsewhere. Defining
// LADLE_ASSERT_THROWS=1 selects the ready-made handler that throws ladle::assertion_failure (the
// test suite does, so preconditions can be tested); the default prints and aborts.
#ifndef LADLE_ASSERT_HANDLER
#  if defined(LADLE_ASSERT_THROWS) && LADLE_ASSERT_THROWS
#    define LADLE_ASSERT_HANDLER(condition, file, line, message) \
      ::ladle::detail::throwing_assert_handler(condition, file, line, message)
#  else
#    define LADLE_ASSERT_HANDLER(condition, file, line, message) \
      ::ladle::detail::default_assert_handler(condition, file, line, message)
#  endif
#endif

// LADLE_ENABLE_ASSERTS: 1 checks internal invariants (default unless NDEBUG), 0 compiles them out.
#ifndef LADLE_ENABLE_ASSERTS
#  ifdef NDEBUG
#    define LADLE_ENABLE_ASSERTS 0
#  else
#    define LADLE_ENABLE_ASSERTS 1
#  endif
#endif

#if LADLE_ENABLE_ASSERTS
#  define LADLE_ASSERT(condition, message)                                           \
    ((condition) ? static_cast<void>(0)                                               \
                 : LADLE_ASSERT_HANDLER(#condition, __FILE__, __LINE__, message))
#else
#  define LADLE_ASSERT(condition, message) static_cast<void>(0)
#endif
