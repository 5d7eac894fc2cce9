# Included after find_package(xsimd), both by ladle's build and by the installed ladleConfig.
#  * refuses xsimd older than 8.1;
#  * Debian's xsimd 8.1 export lists a bare "xtl" link item that its config never finds, so every
#    program linking xsimd fails with "cannot find -lxtl"; drop that item when no xtl target exists.
if(DEFINED xsimd_VERSION AND xsimd_VERSION VERSION_LESS 8.1)
  message(FATAL_ERROR "ladle needs xsimd >= 8.1 (found ${xsimd_VERSION})")
endif()
if(TARGET xsimd AND DEFINED xsimd_VERSION AND xsimd_VERSION VERSION_LESS 9 AND NOT TARGET xtl)
  get_target_property(_ladle_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_ladle_xsimd_links)
    list(REMOVE_ITEM _ladle_xsimd_links xtl)
    set_target_properties(xsimd PROPERTIES INTERFACE_LINK_LIBRARIES "${_ladle_xsimd_links}")
  endif()
  unset(_ladle_xsimd_links)
endif()
