# Installs the client component into a fresh prefix and builds the example against it
# the way a consumer would (find_package(vsr_client), target vsr::client), seeing nothing
# of the source or build tree.
#   cmake -DBUILD_DIR=<project build> -DWORK_DIR=<scratch dir> -DEXAMPLE_DIR=<client/examples>
#         -DCXX_COMPILER=<c++> -P install_test.cmake
set(prefix ${WORK_DIR}/prefix)
set(consumer ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${what} failed (${code}):\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --component vsr_client)

# Exactly the public header, the library, the package files and the program.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
list(SORT installed)
message("installed:\n  ${installed}")
foreach(expected include/vsr/client.h bin/vsr-client)
  if(NOT EXISTS ${prefix}/${expected})
    message(FATAL_ERROR "${expected} was not installed")
  endif()
endforeach()
foreach(file ${installed})
  if(file MATCHES "^include/" AND NOT file STREQUAL "include/vsr/client.h")
    message(FATAL_ERROR "an internal header was installed: ${file}")
  endif()
endforeach()
file(GLOB_RECURSE libraries ${prefix}/lib*/libvsr_client.so*)
file(GLOB_RECURSE configs ${prefix}/lib*/cmake/vsr_client/vsr_clientConfig.cmake)
if(NOT libraries OR NOT configs)
  message(FATAL_ERROR "the library or its package configuration is missing")
endif()

# A consumer: only the prefix is known.
run("configure the example" ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${consumer}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror")
run("build the example" ${CMAKE_COMMAND} --build ${consumer})

# Without a cluster the example must load the installed library and say why it failed.
execute_process(COMMAND ${consumer}/hello tc-install-test-no-cluster
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1 OR NOT err MATCHES "hello: unavailable: no cluster 'tc-install-test-no-cluster'")
  message(FATAL_ERROR "the example did not run as expected (exit ${code}):\n${out}${err}")
endif()
execute_process(COMMAND ${prefix}/bin/vsr-client --help RESULT_VARIABLE code OUTPUT_QUIET)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the installed vsr-client does not run (exit ${code})")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
message("installed, built the example against the installed package, and ran it")
