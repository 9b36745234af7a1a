# cmake -D COMPILER=... -D STD_FLAG=... -D FLAGS_FILE=... -D OWN_INCLUDE=... -D IMPLICIT_INCLUDES=...
#       -D SOURCE=... -D EXPECT=PASS|FAIL -D REGEXES=<list> -P check_compile.cmake
# Compiles SOURCE with -fsyntax-only (and gant's test warnings) and checks the outcome: EXPECT=FAIL needs a nonzero exit
# status AND every regex in REGEXES found in the compiler's output; EXPECT=PASS needs exit 0.
cmake_minimum_required(VERSION 3.20)
foreach(var COMPILER FLAGS_FILE SOURCE EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile.cmake: ${var} is not set")
  endif()
endforeach()
include(${FLAGS_FILE})

# gant's own headers with -I (their warnings matter); dependencies as -isystem, as CMake does
# for imported targets; the compiler's implicit directories not at all (-I/usr/include breaks
# libstdc++'s #include_next).
set(args ${STD_FLAG} -fsyntax-only -Wall -Wextra -Wpedantic -Werror)
list(REMOVE_DUPLICATES GANT_CF_INCLUDES)
foreach(dir IN LISTS GANT_CF_INCLUDES)
  if(dir IN_LIST IMPLICIT_INCLUDES)
    continue()
  elseif(dir STREQUAL OWN_INCLUDE)
    list(APPEND args -I${dir})
  else()
    list(APPEND args -isystem ${dir})
  endif()
endforeach()
foreach(def IN LISTS GANT_CF_DEFINITIONS)
  list(APPEND args -D${def})
endforeach()
list(APPEND args ${GANT_CF_OPTIONS} ${SOURCE})

execute_process(COMMAND ${COMPILER} ${args}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)

get_filename_component(case ${SOURCE} NAME)
if(EXPECT STREQUAL "PASS")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${case} should compile but did not (exit ${status}):\n${out}")
  endif()
  message(STATUS "${case} compiles, as expected")
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "${case} compiled, but it must be rejected. Output:\n${out}")
endif()
set(missing "")
foreach(regex IN LISTS REGEXES)
  if(NOT out MATCHES "${regex}")
    list(APPEND missing "${regex}")
  endif()
endforeach()
if(missing)
  list(JOIN missing "\n  " missing_text)
  message(FATAL_ERROR "${case} failed to compile (exit ${status}) but the diagnostic lacks:\n  ${missing_text}\n"
                      "Compiler output:\n${out}")
endif()
message(STATUS "${case} is rejected with the expected diagnostic")
