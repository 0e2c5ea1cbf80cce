# SPDX-License-Identifier: GPL-2.0-only
# dt_target_warnings(tgt): the one warning list for every target of the project.
function(dt_target_warnings tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith
    -Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition
    -Wundef -Wcast-align -Wwrite-strings -Wvla -Wno-unused-parameter
    -Wno-missing-field-initializers -fno-strict-aliasing)
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${tgt} PRIVATE -Wlogical-op -Wduplicated-cond
      -Wformat-truncation=1)
  endif()
  if(DT_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
endfunction()
