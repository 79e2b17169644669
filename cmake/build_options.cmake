# Compiler launcher, warnings, sanitizers and the helper every module uses to declare itself.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  # Precompiled headers are only cacheable with these sloppiness settings.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CCACHE_PROGRAM})
endif()

# gold links the binary several times faster than bfd on two cores.
find_program(GOLD_LINKER ld.gold)
if(GOLD_LINKER)
  add_link_options(-fuse-ld=gold)
endif()

option(MONOMESH_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
if(MONOMESH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# GCC 12 reports std::string concatenation at -O3 as overflowing (GCC bugs 105329, 105651):
# false positives that would otherwise fail -Werror builds; with sanitizers it also misreads
# coroutine frames as mismatched new/delete.
set(MONOMESH_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND MONOMESH_WARNINGS -Wno-stringop-overflow -Wno-stringop-overread -Wno-restrict -Wno-array-bounds -Wno-mismatched-new-delete)
endif()

# monomesh_module(<name> SOURCES ... DEPS ...) declares modules/<name> as a static library
# `monomesh_<name>` with the project's warnings and the shared precompiled header.
function(monomesh_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(monomesh_${name} STATIC ${M_SOURCES})
  target_include_directories(monomesh_${name} PUBLIC ${PROJECT_SOURCE_DIR}/modules)
  target_compile_options(monomesh_${name} PRIVATE ${MONOMESH_WARNINGS})
  target_link_libraries(monomesh_${name} PUBLIC ${M_DEPS})
  target_precompile_headers(monomesh_${name} REUSE_FROM monomesh_pch)
endfunction()
