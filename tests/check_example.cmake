# Runs one example and checks its output: it must exit 0, and every line of the expected
# file is a regular expression that must match somewhere in the output (stdout, then stderr) ("\n" in a line
# stands for a newline, to pin down the order of consecutive lines).
execute_process(COMMAND ${EXAMPLE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXAMPLE} exited with ${rc}\n--- stdout\n${out}\n--- stderr\n${err}")
endif()
file(STRINGS ${EXPECTED} patterns ENCODING UTF-8)
foreach(pattern IN LISTS patterns)
  if(pattern STREQUAL "")
    continue()
  endif()
  string(REPLACE "\\n" "\n" regex "${pattern}")
  if(NOT "${out}${err}" MATCHES "${regex}")
    message(FATAL_ERROR "output of ${EXAMPLE} lacks /${pattern}/\n--- stdout\n${out}\n--- stderr\n${err}")
  endif()
endforeach()
message(STATUS "${EXAMPLE}: output as expected\n${out}")
