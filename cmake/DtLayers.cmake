# SPDX-License-Identifier: GPL-2.0-only
# One static library per layer (docs/DESIGN.md, "Layers"). A layer's folder holds its
# sources and private headers; its include/ folder holds its public headers, the only
# ones it exports. A layer links (and so may include) only the layers named in USES:
# an include of a layer above it, or of another layer's private header, does not build.
#
#   dt_layer(TARGET SOURCES a.c b.c ... USES dt_model ...)
#
# Each layer also gets TARGET_internal, an interface target with its private headers'
# folder, for the tests and benchmarks that exercise its insides (never for a layer).
function(dt_layer tgt)
  cmake_parse_arguments(L "" "" "SOURCES;USES" ${ARGN})
  add_library(${tgt} STATIC ${L_SOURCES})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_include_directories(${tgt} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  target_include_directories(${tgt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${tgt} PUBLIC ${L_USES})
  dt_target_warnings(${tgt})
  add_library(${tgt}_internal INTERFACE)
  target_include_directories(${tgt}_internal INTERFACE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${tgt}_internal INTERFACE ${tgt})
  set_property(GLOBAL APPEND PROPERTY DT_LAYERS ${tgt})
endfunction()
