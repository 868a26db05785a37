# check-bench: timings of the linearizability checker on the largest shared histories.
add_executable(check-bench ${CMAKE_CURRENT_LIST_DIR}/check_bench.cpp)
target_link_libraries(check-bench PRIVATE vsr_check)
target_compile_definitions(check-bench PRIVATE
  VSR_CHECK_BENCH_DATA="${CMAKE_CURRENT_LIST_DIR}/../tests/check/data")
