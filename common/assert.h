// Invariant checks that stay on in every build type.
//
// A broken invariant means the process can no longer be trusted with data, so it
// stops at once (the supervisor restarts a replica). `assert` from <cassert> is not
// used because NDEBUG would silently remove the checks from release builds.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace vsr {

// The simulator installs a handler that throws, so that a broken invariant is
// reported as that seed's violation instead of ending the whole run. A handler
// must not return; every program of the service leaves it unset (abort).
using AssertHandler = void (*)(const char* expr, const char* file, int line, const char* msg);
inline AssertHandler assert_handler = nullptr;

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  if (assert_handler != nullptr) assert_handler(expr, file, line, msg);
  std::fprintf(stderr, "vsr: invariant violated: %s at %s:%d%s%s\n", expr, file, line,
               msg ? ": " : "", msg ? msg : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace vsr

#define VSR_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::vsr::assert_fail(#cond, __FILE__, __LINE__, nullptr))
#define VSR_ASSERT_MSG(cond, msg) \
  ((cond) ? static_cast<void>(0) : ::vsr::assert_fail(#cond, __FILE__, __LINE__, (msg)))
