# vcpkg overlay port for ladle (header-only).
#   vcpkg install ladle --overlay-ports=<ladle checkout>/packaging/vcpkg/ports
# As an overlay the port packages the checkout it lives in (four levels up), so it needs no
# download and no archive hash. For a registry submission, replace SOURCE_PATH by
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/ladle REF "v${VERSION}"
#                     SHA512 <sha512 of the tag archive> HEAD_REF main)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/ladle/version.hpp")
  message(FATAL_ERROR "ladle's overlay port expects the ladle source tree at ${SOURCE_PATH}")
endif()

# Header-only: configure and install once, no debug tree.
set(VCPKG_BUILD_TYPE release)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DLADLE_BUILD_TESTS=OFF
    -DLADLE_BUILD_BENCHMARKS=OFF
    -DLADLE_BUILD_EXAMPLES=OFF
    -DLADLE_BUILD_TOOLS=OFF
    -DLADLE_INSTALL=ON
)
vcpkg_cmake_install()

# ladle installs its package files to share/cmake/ladle; vcpkg wants them in share/ladle.
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/ladle)
vcpkg_fixup_pkgconfig()

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
