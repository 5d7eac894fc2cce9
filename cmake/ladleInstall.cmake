# Install rules: headers (including future .cuh), the exported target, a relocatable
# ladleConfig.cmake + version file under share/cmake/ladle, and a pkg-config file.
include(CMakePackageConfigHelpers)

set(LADLE_CMAKE_CONFIG_DESTINATION "${CMAKE_INSTALL_DATADIR}/cmake/ladle" CACHE STRING
    "Where to install ladleConfig.cmake (relative to the prefix)")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.cuh")
install(TARGETS ladle EXPORT ladleTargets)
install(EXPORT ladleTargets NAMESPACE ladle:: DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}")
# Lets a FetchContent/add_subdirectory parent re-export ladle from its own build tree.
export(EXPORT ladleTargets NAMESPACE ladle:: FILE "${PROJECT_BINARY_DIR}/ladleTargets.cmake")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/ladleConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ladleConfig.cmake"
  INSTALL_DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}")
# 0.x: each minor release may break, so only the same minor version is compatible.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/ladleConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/ladleConfig.cmake"
  "${PROJECT_BINARY_DIR}/ladleConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/ladleXsimdCompat.cmake"
  DESTINATION "${LADLE_CMAKE_CONFIG_DESTINATION}")

configure_file("${PROJECT_SOURCE_DIR}/cmake/ladle.pc.in" "${PROJECT_BINARY_DIR}/ladle.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/ladle.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
