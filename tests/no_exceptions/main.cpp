// Built with -fno-exceptions: a ladle::error must print its message and abort (never UB).
// ctest expects this program to fail with the message below on stderr.
#include <ladle/core.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <vector>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#  error "this test must be compiled with -fno-exceptions"
#endif
static_assert(LADLE_HAS_EXCEPTIONS == 0, "LADLE_HAS_EXCEPTIONS must follow -fno-exceptions");

// ctest counts a signal as a failure whatever the output says, so turn the abort into exit code 3.
extern "C" void on_abort(int) { std::_Exit(3); }

int main() {
  std::signal(SIGABRT, on_abort);
  std::vector<float> x = {1.f, 2.f, 3.f}, out(3);
  ladle::softmax(ladle::make_view(x.data(), 3), ladle::make_view(out.data(), 3));  // fine
  std::printf("softmax ok: %.3f\n", out[2]);
  ladle::softmax(ladle::make_view(x.data(), 3), ladle::make_view(out.data(), 2));  // aborts
  std::printf("unreachable\n");
  return 0;
}
