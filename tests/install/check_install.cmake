# Installs the build under test (BUILD_DIR: already built, so nothing is compiled again) into
# a scratch prefix, then builds and runs a tiny outside project that uses
# find_package(pyconc CONFIG REQUIRED).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(installed include/pyconc/threading.hpp bin/pyconc-serve)
  if(NOT EXISTS ${prefix}/${installed})
    message(FATAL_ERROR "the install has no ${installed}")
  endif()
endforeach()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer -G Ninja
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)
if(NOT last_output MATCHES "consumer: 4000 increments, queue drained")
  message(FATAL_ERROR "unexpected consumer output: ${last_output}")
endif()
message(STATUS "installed package works: ${last_output}")

# The server example: built against the package, started, asked once, stopped by TERM.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/server_app -B ${WORK_DIR}/server_app -G Ninja
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/server_app)
run(bash ${SOURCE_DIR}/tests/install/check_server_app.sh ${WORK_DIR}/server_app/server_app
    ${WORK_DIR}/server_app.log)
if(NOT last_output MATCHES "hello from a pyconc worker\nexit 0")
  message(FATAL_ERROR "unexpected server_app output: ${last_output}")
endif()
message(STATUS "installed server example works")
