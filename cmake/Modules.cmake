# One static library per module folder. A module's headers are reachable as
# "<module>/<file>.h" only through its own include root, so a target that does
# not link a module cannot include its headers: the layering of STYLE.md fails
# the build when broken. tests/layering_test.sh checks the third-party headers.

set(SEGD_WARNINGS -Wall -Wextra -Wpedantic -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports std::variant/std::string members as maybe-uninitialized
  # at -O2 where they are not (GCC bugs 105562, 107919).
  list(APPEND SEGD_WARNINGS -Wno-maybe-uninitialized)
elseif(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # librdkafka's RD_KAFKA_V_* macros type-check with statement expressions.
  list(APPEND SEGD_WARNINGS -Wno-gnu-statement-expression)
endif()

if(SEGD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SEGD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SEGD_FUZZ needs clang (CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# segd_module(NAME SOURCES ... DEPS ...)
function(segd_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/modroot/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${name} ${root}/${name} SYMBOLIC)
  add_library(segd_${name} STATIC ${M_SOURCES})
  target_include_directories(segd_${name} PUBLIC ${root})
  target_compile_options(segd_${name} PRIVATE ${SEGD_WARNINGS})
  target_link_libraries(segd_${name} PUBLIC ${M_DEPS})
endfunction()
