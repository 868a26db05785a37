# Runs vsr-client once and checks its exit code and output (stdout and stderr together).
#   cmake -DEXE=<vsr-client> -DARGS=<arguments separated by |> -DEXPECT_EXIT=<code>
#         -DEXPECT_OUTPUT=<regex> [-DINPUT=<file for stdin>] -P run.cmake
string(REPLACE "|" ";" args "${ARGS}")
set(input)
if(INPUT)
  set(input INPUT_FILE ${INPUT})
endif()
execute_process(COMMAND ${EXE} ${args} ${input}
  RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(LENGTH "${ARGS}" args_length)
if(args_length GREATER 300)
  string(SUBSTRING "${ARGS}" 0 300 ARGS)
  set(ARGS "${ARGS}...")
endif()
message("vsr-client ${ARGS}\nexit ${exit_code}\n--- stdout\n${out}--- stderr\n${err}")
if(NOT exit_code STREQUAL EXPECT_EXIT)
  message(FATAL_ERROR "expected exit code ${EXPECT_EXIT}, got ${exit_code}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "output does not match: ${EXPECT_OUTPUT}")
endif()
