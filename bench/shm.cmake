# shm-bench: latency, idle CPU and throughput of the shared-memory transport.
# Prints numbers (docs/shm.md holds the measured table); not a test.
add_executable(shm-bench ${CMAKE_CURRENT_SOURCE_DIR}/shm_bench.cpp)
target_link_libraries(shm-bench PRIVATE vsr_shm CLI11::CLI11)
