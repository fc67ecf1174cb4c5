# Runs PROGRAM with one argument ARGUMENT and writes what it prints to OUTPUT: the build makes each
# program's manual page and bash completion this way (cmake -P, no shell needed).
execute_process(COMMAND "${PROGRAM}" "${ARGUMENT}" OUTPUT_FILE "${OUTPUT}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(REMOVE "${OUTPUT}")
  message(FATAL_ERROR "${PROGRAM} ${ARGUMENT} failed: ${result}")
endif()
