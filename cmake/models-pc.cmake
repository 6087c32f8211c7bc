# SPDX-License-Identifier: Apache-2.0
# Writes models.pc for the prefix the library is installed under: run by
# `cmake --install` (so `--prefix /elsewhere` and CMAKE_INSTALL_PREFIX at
# configure time give the same, correct file), and at configure time for the
# build tree's models-uninstalled.pc.
# In: MODELS_PC_IN, MODELS_PC_OUT, PROJECT_VERSION, and either
#   MODELS_PC_UNINSTALLED (source dir;build dir), or
#   MODELS_PC_PREFIX, MODELS_PC_LIBDIR_REL, MODELS_PC_INCLUDEDIR_REL (GNUInstallDirs values).
function(models_write_pc)
  set(MODELS_PC_RPATH "")
  if(MODELS_PC_UNINSTALLED)
    list(GET MODELS_PC_UNINSTALLED 0 src)
    list(GET MODELS_PC_UNINSTALLED 1 bin)
    set(MODELS_PC_PREFIX "${src}")
    set(MODELS_PC_LIBDIR "${bin}")
    set(MODELS_PC_INCLUDEDIR "\${prefix}/include")
    # A program built against the build tree runs from it without LD_LIBRARY_PATH.
    set(MODELS_PC_RPATH " -Wl,-rpath,\${libdir}")
  else()
    foreach(kind LIBDIR INCLUDEDIR)
      if(IS_ABSOLUTE "${MODELS_PC_${kind}_REL}")
        set(MODELS_PC_${kind} "${MODELS_PC_${kind}_REL}")
      else()
        set(MODELS_PC_${kind} "\${prefix}/${MODELS_PC_${kind}_REL}")
      endif()
    endforeach()
  endif()
  configure_file("${MODELS_PC_IN}" "${MODELS_PC_OUT}" @ONLY)
endfunction()
models_write_pc()
