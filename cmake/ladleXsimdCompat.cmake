# Included right after find_package(xsimd), by ladle's own build and by the installed
# ladleConfig.cmake (which is why it is installed next to it).
#
#  * xsimd older than 8.1 is refused. In ladle's own build that is a fatal error; inside the
#    installed Config (which sets _ladle_compat_in_config first) it only records the reason in
#    _ladle_compat_error, so that `find_package(ladle QUIET)` reports "not found" and a consumer's
#    fallback (FetchContent, a vendored copy) still runs.
#  * Debian's xsimd 8.1 export gives target `xsimd` a bare `xtl` link item, but its Config never
#    looks for xtl (and xtl-dev is not a dependency), so every program linking xsimd fails with
#    "cannot find -lxtl". ladle does not use xsimd's xtl integration, so when no `xtl` target
#    exists the item is dropped. A no-op on xsimd >= 9, which no longer has it.
set(_ladle_compat_error "")
if(DEFINED xsimd_VERSION AND xsimd_VERSION VERSION_LESS 8.1)
  set(_ladle_compat_error "ladle needs xsimd >= 8.1 (found ${xsimd_VERSION})")
  if(NOT _ladle_compat_in_config)
    message(FATAL_ERROR "${_ladle_compat_error}")
  endif()
  return()
endif()

if(TARGET xsimd AND DEFINED xsimd_VERSION AND xsimd_VERSION VERSION_LESS 9 AND NOT TARGET xtl)
  get_target_property(_ladle_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_ladle_xsimd_links)
    list(REMOVE_ITEM _ladle_xsimd_links xtl)
    set_target_properties(xsimd PROPERTIES INTERFACE_LINK_LIBRARIES "${_ladle_xsimd_links}")
  endif()
  unset(_ladle_xsimd_links)
endif()
