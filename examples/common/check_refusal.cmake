# Runs `program args...` (the arguments after "--") and requires exit code EXIT and exactly one
# line on stderr, "<program>: <MATCH>". execute_process reports a crash as the signal's name and a
# hang as a timeout, so neither can pass. With NEEDS=<path>, a missing path is a skip (the test
# data of a fixture that found no dataset).
#
#   cmake -D EXIT=<code> -D MATCH=<regex> [-D NEEDS=<path>] -P check_refusal.cmake -- program args...
if(NEEDS AND NOT EXISTS "${NEEDS}")
  message("SKIPPED: no ${NEEDS}")
  return()
endif()
set(cmd)
set(after OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(after ON)
  endif()
endforeach()
list(GET cmd 0 exe)
get_filename_component(name "${exe}" NAME)
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT "${rc}" STREQUAL "${EXIT}" OR NOT "${err}" MATCHES "^${name}: ${MATCH}\n$")
  message(FATAL_ERROR "exit code ${rc} (expected ${EXIT}); stderr:\n${err}\nexpected one line matching: ${name}: ${MATCH}")
endif()
