# cmake -D DOC=<markdown file> -D SOURCE=<source file> -D MARKER=<path named in the doc>
#       [-D BEGIN=<line> -D END=<line>] -P check_doc_example.cmake
# A document shows code under a line "<!-- example: MARKER -->"; the ```cpp block that follows
# must equal SOURCE (or the part of SOURCE strictly between the lines BEGIN and END) byte for
# byte, so the docs never show code that the tests do not compile.
cmake_minimum_required(VERSION 3.20)
file(READ "${DOC}" doc)
file(READ "${SOURCE}" source)
get_filename_component(doc_name "${DOC}" NAME)

if(DEFINED BEGIN)
  string(FIND "${source}" "${BEGIN}\n" b)
  string(FIND "${source}" "${END}" e)
  if(b EQUAL -1 OR e EQUAL -1)
    message(FATAL_ERROR "${SOURCE} lacks the lines '${BEGIN}' / '${END}'")
  endif()
  string(LENGTH "${BEGIN}\n" blen)
  math(EXPR b "${b} + ${blen}")
  math(EXPR len "${e} - ${b}")
  string(SUBSTRING "${source}" ${b} ${len} source)
endif()

string(FIND "${doc}" "<!-- example: ${MARKER} -->" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${doc_name} has no '<!-- example: ${MARKER} -->' marker")
endif()
string(SUBSTRING "${doc}" ${at} -1 rest)
string(FIND "${rest}" "```cpp\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "${doc_name}: no ```cpp block after the marker for ${MARKER}")
endif()
math(EXPR begin "${open} + 7")
string(SUBSTRING "${rest}" ${begin} -1 rest)
string(FIND "${rest}" "```" close)
string(SUBSTRING "${rest}" 0 ${close} shown)
if(NOT shown STREQUAL source)
  message(FATAL_ERROR "${doc_name}'s example differs from ${MARKER}; copy the code into ${doc_name}")
endif()
message(STATUS "${doc_name}'s example matches ${MARKER}")
