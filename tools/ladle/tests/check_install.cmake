# cmake -DBUILD_DIR=<build> -DPREFIX=<dir> -P check_install.cmake
# Installs the component ladle_tools into a fresh PREFIX and checks that it is exactly bin/ladle,
# and that the installed program runs.
cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                        --component ladle_tools RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install --component ladle_tools failed (${rc})")
endif()
file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
if(NOT installed STREQUAL "bin/ladle")
  message(FATAL_ERROR "component ladle_tools installed '${installed}', expected exactly bin/ladle")
endif()
execute_process(COMMAND "${PREFIX}/bin/ladle" --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^ladle [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "installed bin/ladle --version gave ${rc}: '${out}'")
endif()
message(STATUS "installed ${PREFIX}/bin/ladle: ${out}")
