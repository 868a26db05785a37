# Runs vsr-check once and checks its exit code and output (stdout and stderr together).
#   cmake -DEXE=<vsr-check> -DARGS=<arguments separated by |> -DEXPECT_EXIT=<code>
#         -DEXPECT_OUTPUT=<regex> -P run.cmake
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${EXE} ${args}
  RESULT_VARIABLE exit_code OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("vsr-check ${args}\nexit ${exit_code}\n--- stdout\n${out}--- stderr\n${err}")
if(NOT exit_code STREQUAL EXPECT_EXIT)
  message(FATAL_ERROR "expected exit code ${EXPECT_EXIT}, got ${exit_code}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "output does not match: ${EXPECT_OUTPUT}")
endif()
