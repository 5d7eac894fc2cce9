# cmake -DPKG_CONFIG=<pkg-config> -DPREFIX=<prefix> -DLAYOUT=<ladleInstallLayout.cmake>
#       -P check_pkg_config.cmake
# Asks pkg-config about the installed ladle.pc: the version, and that --cflags names the
# prefix's include directory (after resolving the ${pcfiledir}-relative prefix) and resolves the
# Requires (eigen3, xsimd) without error.
cmake_minimum_required(VERSION 3.21)
include("${LAYOUT}")
set(INCLUDEDIR "${LADLE_LAYOUT_INCLUDEDIR}")
set(PKGCONFIG_DIR "${LADLE_LAYOUT_PKGCONFIGDIR}")
set(VERSION "${LADLE_LAYOUT_VERSION}")
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${PKGCONFIG_DIR}")
execute_process(COMMAND "${PKG_CONFIG}" --modversion ladle
                OUTPUT_VARIABLE got_version OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT got_version STREQUAL VERSION)
  message(FATAL_ERROR
          "pkg-config --modversion ladle: '${got_version}' (rc ${rc}, want ${VERSION})\n${err}")
endif()
execute_process(COMMAND "${PKG_CONFIG}" --cflags ladle
                OUTPUT_VARIABLE cflags OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags ladle failed (rc ${rc}):\n${err}")
endif()
message(STATUS "pkg-config --cflags ladle: ${cflags}")
get_filename_component(want "${PREFIX}/${INCLUDEDIR}" REALPATH)
separate_arguments(flags UNIX_COMMAND "${cflags}")
set(found FALSE)
foreach(flag IN LISTS flags)
  if(flag MATCHES "^-I(.+)$")
    get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
    if(dir STREQUAL want)
      set(found TRUE)
    endif()
  endif()
endforeach()
if(NOT found)
  message(FATAL_ERROR "pkg-config --cflags ladle does not name ${want}: ${cflags}")
endif()
execute_process(COMMAND "${PKG_CONFIG}" --print-requires ladle OUTPUT_VARIABLE requires)
string(STRIP "${requires}" requires)
string(REPLACE "\n" ", " requires "${requires}")
message(STATUS "pkg-config ok: ladle ${got_version}, requires ${requires}")
