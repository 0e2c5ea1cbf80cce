# SPDX-License-Identifier: GPL-2.0-only
# DT_SANITIZE=address,undefined | thread: applied to every target.
if(DT_SANITIZE)
  string(REPLACE "," ";" _san "${DT_SANITIZE}")
  set(_flags "")
  foreach(s IN LISTS _san)
    list(APPEND _flags "-fsanitize=${s}")
  endforeach()
  list(APPEND _flags -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_flags})
  add_link_options(${_flags})
  if("thread" IN_LIST _san)
    # liburcu 0.13 synchronises with barriers TSan cannot see; our wrappers
    # annotate happens-before edges (model/include/domtrace/tsan.h).
    add_compile_definitions(DT_TSAN=1)
  endif()
endif()
