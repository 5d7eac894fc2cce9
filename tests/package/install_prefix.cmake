# cmake -DBUILD_DIR=<build> -DPREFIX=<dir> [-DSCRATCH_DIRS=<dir>|<dir>...] -P install_prefix.cmake
# Installs ladle (component ladle_development) from BUILD_DIR into a freshly emptied PREFIX, and
# empties SCRATCH_DIRS (consumer build trees that must not keep a cached ladle_DIR).
cmake_minimum_required(VERSION 3.21)
foreach(var BUILD_DIR PREFIX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_prefix.cmake: ${var} is not set")
  endif()
endforeach()
string(REPLACE "|" ";" scratch_dirs "${SCRATCH_DIRS}")
file(REMOVE_RECURSE "${PREFIX}" ${scratch_dirs})
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
          --component ladle_development
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${result})")
endif()
file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
list(LENGTH installed count)
message(STATUS "installed ${count} files into ${PREFIX}")
