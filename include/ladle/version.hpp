// ladle/version.hpp: the single source of ladle's version (CMake parses these lines).
#pragma once

#define LADLE_VERSION_MAJOR 0
#define LADLE_VERSION_MINOR 1
#define LADLE_VERSION_PATCH 0

/// major * 10000 + minor * 100 + patch, for `#if LADLE_VERSION >= 100` checks.
#define LADLE_VERSION (LADLE_VERSION_MAJOR * 10000 + LADLE_VERSION_MINOR * 100 + LADLE_VERSION_PATCH)

#define LADLE_DETAIL_STR2(x) #x
#define LADLE_DETAIL_STR(x) LADLE_DETAIL_STR2(x)
#define LADLE_VERSION_STRING                                                              \
  LADLE_DETAIL_STR(LADLE_VERSION_MAJOR)                                                   \
  "." LADLE_DETAIL_STR(LADLE_VERSION_MINOR) "." LADLE_DETAIL_STR(LADLE_VERSION_PATCH)
