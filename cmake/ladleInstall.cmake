# Install rules for the header-only package (included by the top-level CMakeLists.txt when
# LADLE_INSTALL is ON):
#   <prefix>/include/ladle/...                   every public header, including CUDA *.cuh
#   <prefix>/share/cmake/ladle/                  ladleConfig.cmake, ladleConfigVersion.cmake,
#                                                ladleTargets.cmake, ladleXsimdCompat.cmake
#   <prefix>/share/pkgconfig/ladle.pc            pkg-config file
# Nothing goes to lib/: the package is architecture independent. Everything is relocatable (the
# Config and the .pc file find the prefix relative to their own location), and everything belongs
# to the install component `ladle_development`, so `cmake --install <build> --component
# ladle_development` installs the library alone, without any program a build may also install.
include(CMakePackageConfigHelpers)

set(LADLE_CMAKE_CONFIG_DESTINATION "${CMAKE_INSTALL_DATADIR}/cmake/ladle" CACHE STRING
    "Where to install ladle's CMake package files (relative to the prefix)")
set(LADLE_PKGCONFIG_DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Where to install ladle.pc (relative to the prefix)")
set(_ladle_component COMPONENT ladle_development)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        ${_ladle_component}
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.cuh")
install(TARGETS ladle EXPORT ladleTargets ${_ladle_component})
install(EXPORT ladleTargets NAMESPACE ladle:: DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}"
        ${_ladle_component})
# Lets a FetchContent/add_subdirectory parent re-export ladle from its own build tree.
# (No export(PACKAGE): it would write into ~/.cmake/packages and change what other projects find.)
export(EXPORT ladleTargets NAMESPACE ladle:: FILE "${PROJECT_BINARY_DIR}/ladleTargets.cmake")

# Dependencies the exported target carries beyond xsimd and Eigen (found by the Config, and
# listed in the .pc file). Derived from the target so the two cannot drift apart.
get_target_property(_ladle_links ladle INTERFACE_LINK_LIBRARIES)
set(LADLE_CONFIG_EXTRA_DEPENDENCIES "")
set(LADLE_PKGCONFIG_LIBS "")
if("Threads::Threads" IN_LIST _ladle_links)
  string(APPEND LADLE_CONFIG_EXTRA_DEPENDENCIES
         "# ladle::ladle links Threads::Threads (the par policy starts std::threads).\n"
         "find_dependency(Threads)\n")
  set(LADLE_PKGCONFIG_LIBS "Libs: -pthread")
endif()
unset(_ladle_links)

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/ladleConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ladleConfig.cmake"
  INSTALL_DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}")
# 0.x: each minor release may break, so only the same minor version is compatible (switch to
# SameMajorVersion at 1.0). ARCH_INDEPENDENT: headers fit 32- and 64-bit consumers alike.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/ladleConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/ladleConfig.cmake"
  "${PROJECT_BINARY_DIR}/ladleConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/ladleXsimdCompat.cmake"
  DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}"
  ${_ladle_component})

# pkg-config: the prefix is computed from ${pcfiledir}, so the file stays right when the tree is
# installed with `cmake --install --prefix`, moved, or repackaged (vcpkg, Conan).
if(IS_ABSOLUTE "${LADLE_PKGCONFIG_DESTINATION}")
  set(LADLE_PKGCONFIG_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _ladle_up "/ladle-prefix/${LADLE_PKGCONFIG_DESTINATION}" "/ladle-prefix")
  string(REGEX REPLACE "/$" "" _ladle_up "${_ladle_up}")
  set(LADLE_PKGCONFIG_PREFIX "\${pcfiledir}/${_ladle_up}")
  unset(_ladle_up)
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LADLE_PKGCONFIG_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LADLE_PKGCONFIG_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/ladle.pc.in" "${PROJECT_BINARY_DIR}/ladle.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/ladle.pc" DESTINATION "${LADLE_PKGCONFIG_DESTINATION}"
        ${_ladle_component})
unset(_ladle_component)

# The layout above, for the package tests (tests/package/), which are configured before this file
# is included and read it when they run.
file(WRITE "${PROJECT_BINARY_DIR}/ladleInstallLayout.cmake"
     "set(LADLE_LAYOUT_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")\n"
     "set(LADLE_LAYOUT_CONFIGDIR \"${LADLE_CMAKE_CONFIG_DESTINATION}\")\n"
     "set(LADLE_LAYOUT_PKGCONFIGDIR \"${LADLE_PKGCONFIG_DESTINATION}\")\n"
     "set(LADLE_LAYOUT_VERSION \"${PROJECT_VERSION}\")\n")
