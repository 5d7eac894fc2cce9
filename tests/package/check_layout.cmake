# cmake -DPREFIX=<prefix> -DSOURCE_DIR=<source> -DBUILD_DIR=<build>
#       -DLAYOUT=<ladleInstallLayout.cmake> -P check_layout.cmake
# Checks an installed ladle prefix: every file under the source include/ladle is installed (and
# nothing else is), nothing went to lib/, the CMake package files are under CONFIG_DIR with the
# version of include/ladle/version.hpp, the pkg-config file exists with that version, and no
# installed package file names the source, build or install directory (it must be relocatable).
# LAYOUT (written by cmake/ladleInstall.cmake) gives the install directories of this build.
cmake_minimum_required(VERSION 3.21)
include("${LAYOUT}")
set(INCLUDEDIR "${LADLE_LAYOUT_INCLUDEDIR}")
set(CONFIG_DIR "${LADLE_LAYOUT_CONFIGDIR}")
set(PKGCONFIG_DIR "${LADLE_LAYOUT_PKGCONFIGDIR}")
set(errors "")
macro(fail)
  string(APPEND errors "  - ${ARGN}\n")
endmacro()

# Version from the single source of truth.
file(STRINGS "${SOURCE_DIR}/include/ladle/version.hpp" version_lines
     REGEX "^#define LADLE_VERSION_(MAJOR|MINOR|PATCH) [0-9]+$")
set(parts "")
foreach(part MAJOR MINOR PATCH)
  string(REGEX MATCH "LADLE_VERSION_${part} ([0-9]+)" _ "${version_lines}")
  list(APPEND parts "${CMAKE_MATCH_1}")
endforeach()
list(JOIN parts "." version)
if(NOT version MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  fail("could not read the version from version.hpp (got '${version}')")
endif()

# Architecture independent: no lib/ (nor lib64/).
foreach(dir lib lib64)
  if(EXISTS "${PREFIX}/${dir}")
    fail("${PREFIX}/${dir} exists; a header-only install must not use it")
  endif()
endforeach()

# Headers: the installed tree equals the source tree, file by file and byte for byte.
file(GLOB_RECURSE source_headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/ladle/*")
file(GLOB_RECURSE installed_headers RELATIVE "${PREFIX}/${INCLUDEDIR}"
     "${PREFIX}/${INCLUDEDIR}/ladle/*")
set(cuda_headers 0)
foreach(h IN LISTS source_headers)
  if(NOT EXISTS "${PREFIX}/${INCLUDEDIR}/${h}")
    fail("header ${h} was not installed")
  else()
    file(SHA256 "${SOURCE_DIR}/include/${h}" a)
    file(SHA256 "${PREFIX}/${INCLUDEDIR}/${h}" b)
    if(NOT a STREQUAL b)
      fail("installed ${h} differs from the source")
    endif()
  endif()
  if(h MATCHES "\\.cuh$")
    math(EXPR cuda_headers "${cuda_headers} + 1")
  endif()
endforeach()
foreach(h IN LISTS installed_headers)
  if(NOT h IN_LIST source_headers)
    fail("installed ${h} has no source (stale or generated file)")
  endif()
endforeach()
if(NOT "ladle/ladle.hpp" IN_LIST installed_headers OR
   NOT "ladle/version.hpp" IN_LIST installed_headers)
  fail("ladle/ladle.hpp or ladle/version.hpp missing from ${PREFIX}/${INCLUDEDIR}")
endif()

# CMake package files.
set(config_dir "${PREFIX}/${CONFIG_DIR}")
foreach(f ladleConfig.cmake ladleConfigVersion.cmake ladleTargets.cmake ladleXsimdCompat.cmake)
  if(NOT EXISTS "${config_dir}/${f}")
    fail("${CONFIG_DIR}/${f} is missing")
  endif()
endforeach()
if(EXISTS "${config_dir}/ladleConfigVersion.cmake")
  file(STRINGS "${config_dir}/ladleConfigVersion.cmake" line REGEX "set\\(PACKAGE_VERSION ")
  if(NOT line MATCHES "set\\(PACKAGE_VERSION \"${version}\"\\)")
    fail("ladleConfigVersion.cmake says '${line}', version.hpp says ${version}")
  endif()
endif()

# The version file's answers, asked as find_package would (in a function, for a clean scope):
# a 32-bit consumer is accepted (ARCH_INDEPENDENT), and only the same minor version matches
# (SameMinorVersion, while ladle is 0.x).
function(ask_version_file want pointer_size out)
  set(PACKAGE_FIND_VERSION "${want}")
  string(REPLACE "." ";" w "${want}")
  list(GET w 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET w 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET w 2 PACKAGE_FIND_VERSION_PATCH)
  set(PACKAGE_FIND_VERSION_COUNT 3)
  set(CMAKE_SIZEOF_VOID_P ${pointer_size})
  include("${config_dir}/ladleConfigVersion.cmake")
  if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()
if(EXISTS "${config_dir}/ladleConfigVersion.cmake")
  list(GET parts 0 major)
  list(GET parts 1 minor)
  math(EXPR next_minor "${minor} + 1")
  ask_version_file("${major}.${minor}.0" 4 same_minor_32bit)
  ask_version_file("${major}.${next_minor}.0" 8 next_minor_ok)
  if(NOT same_minor_32bit)
    fail("ladleConfigVersion.cmake rejects ${major}.${minor}.0 for a 32-bit consumer")
  endif()
  if(next_minor_ok)
    fail("ladleConfigVersion.cmake accepts a request for ${major}.${next_minor}.0")
  endif()
endif()

# pkg-config file.
set(pc "${PREFIX}/${PKGCONFIG_DIR}/ladle.pc")
if(NOT EXISTS "${pc}")
  fail("${PKGCONFIG_DIR}/ladle.pc is missing")
else()
  file(STRINGS "${pc}" pc_version REGEX "^Version: ")
  if(NOT pc_version STREQUAL "Version: ${version}")
    fail("ladle.pc says '${pc_version}', version.hpp says ${version}")
  endif()
endif()

# Relocatable: no absolute path of this machine in the package files.
file(GLOB_RECURSE package_files "${config_dir}/*" "${pc}")
foreach(f IN LISTS package_files)
  file(READ "${f}" text)
  foreach(dir "${PREFIX}" "${SOURCE_DIR}" "${BUILD_DIR}")
    string(FIND "${text}" "${dir}" at)
    if(NOT at EQUAL -1)
      fail("${f} contains the absolute path ${dir}")
    endif()
  endforeach()
endforeach()

list(LENGTH source_headers n_headers)
if(errors)
  message(FATAL_ERROR "install layout check failed for ${PREFIX}:\n${errors}")
endif()
message(STATUS "layout ok: ${n_headers} headers (${cuda_headers} .cuh), config in ${CONFIG_DIR}, "
               "version ${version}, ${PKGCONFIG_DIR}/ladle.pc, no lib/, relocatable")
