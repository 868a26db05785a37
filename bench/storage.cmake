# storage-bench: append throughput in both sync modes, the disk's sync latency, and
# the time to open and validate a 1-GiB log. Prints numbers (docs/storage.md holds
# the measured table); not a test.
add_executable(storage-bench ${CMAKE_CURRENT_LIST_DIR}/storage_bench.cpp)
target_link_libraries(storage-bench PRIVATE vsr_storage CLI11::CLI11)
