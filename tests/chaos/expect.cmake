# Runs vsr-chaos and checks its verdict.
#   -DCHAOS=<vsr-chaos> -DARGS=<;-list> -DEXPECT=pass|fail [-DATTEMPTS=n]
# EXPECT=fail (a teeth test): some attempt must end with exit code 1 and an ANOMALY
# line (a violation found), never with 2 (the cluster did not even start).
if(NOT ATTEMPTS)
  set(ATTEMPTS 1)
endif()
foreach(attempt RANGE 1 ${ATTEMPTS})
  execute_process(COMMAND ${CHAOS} ${ARGS} --seed ${attempt}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("--- attempt ${attempt}: exit ${rc}\n${out}${err}")
  if(EXPECT STREQUAL "pass")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "vsr-chaos found a problem (exit ${rc})")
    endif()
    return()
  endif()
  if(rc EQUAL 2)
    message(FATAL_ERROR "the cluster did not start")
  endif()
  if(rc EQUAL 1 AND out MATCHES "ANOMALY")
    message("the violation was found, as it must be")
    # vsr-chaos keeps the work directory of a failed run for inspection: here the
    # failure was planted, and its replica data (~250 MB) would pile up in /tmp.
    if(out MATCHES "work directory ([^\n]*vsr-chaos-[^\n]*)\n")
      file(REMOVE_RECURSE "${CMAKE_MATCH_1}")
      message("removed its work directory ${CMAKE_MATCH_1}")
    endif()
    return()
  endif()
endforeach()
message(FATAL_ERROR "vsr-chaos did not find the planted bug in ${ATTEMPTS} attempt(s)")
