# SPDX-License-Identifier: GPL-2.0-only
# Imported dependencies. Each is a Debian 12 package; README.md says why each is there.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(URCU REQUIRED IMPORTED_TARGET liburcu liburcu-cds)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
if(DT_TESTS)
  pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
endif()
find_package(zydis REQUIRED)

add_library(dt_deps INTERFACE)
add_library(dt::deps ALIAS dt_deps)
target_link_libraries(dt_deps INTERFACE PkgConfig::URCU PkgConfig::PCRE2
  PkgConfig::CURL PkgConfig::LIBBPF Zydis::Zydis Threads::Threads m)

if(DT_ENABLE_XEN)
  pkg_check_modules(XEN REQUIRED IMPORTED_TARGET xencontrol xenforeignmemory
    xenevtchn xenstore xentoollog)
endif()
