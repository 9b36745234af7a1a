# cmake -D BUILD_DIR=... -D PREFIX=... [-D CONFIG=...] -P install_prefix.cmake
# Installs the build tree into a fresh PREFIX (stale headers from an earlier run removed first).
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${status})")
endif()
file(GLOB_RECURSE configs "${PREFIX}/*/gant-config.cmake")
if(NOT configs)
  message(FATAL_ERROR "no gant-config.cmake under ${PREFIX} after the install")
endif()
