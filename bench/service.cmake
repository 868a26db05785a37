# failover-bench: unavailability after SIGKILL of the primary of a running cluster.
# scripts/bench.sh runs it with the service matrix; it prints numbers, it is not a test.
if(TARGET vsr_client AND TARGET vsr_control)
  add_executable(failover-bench ${CMAKE_CURRENT_SOURCE_DIR}/failover_bench.cpp)
  target_link_libraries(failover-bench PRIVATE vsr_client vsr_control vsr_shm vsr_core CLI11::CLI11 Threads::Threads)
endif()
