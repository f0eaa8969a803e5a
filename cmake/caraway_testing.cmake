# caraway_add_cluster_test(<name> COMMAND <args...> [TIMEOUT <s>]
#                          [PASS_REGULAR_EXPRESSION <regex>] [ONE_MODE]
#                          [INSECURE])
#
# A test of real daemons on 127.0.0.1, registered as cluster.<name> with the
# nodes' default worker mode (processes) and, unless ONE_MODE, once more as
# cluster.threads.<name> with tasks on the daemons' threads: the suite
# passes in both modes. Both run on mutual TLS, the default; with INSECURE,
# also as cluster.insecure.<name> without (--insecure-loopback).
# The scripts read CARAWAY_TEST_WORKER_MODE and CARAWAY_TEST_INSECURE
# (lib.sh).
# One cluster test runs at a time: each starts several daemons on a small
# core budget, and their deadlines assume the machine is not flooded.
function(caraway_add_cluster_test name)
  cmake_parse_arguments(ARG "ONE_MODE;INSECURE" "TIMEOUT;PASS_REGULAR_EXPRESSION"
                        "COMMAND" ${ARGN})
  if(NOT ARG_COMMAND)
    message(FATAL_ERROR "caraway_add_cluster_test(${name}) needs COMMAND")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 180)
  endif()
  set(variants "cluster.${name}")
  if(NOT ARG_ONE_MODE)
    list(APPEND variants "cluster.threads.${name}")
  endif()
  if(ARG_INSECURE)
    list(APPEND variants "cluster.insecure.${name}")
  endif()
  foreach(test IN LISTS variants)
    add_test(NAME ${test} COMMAND ${ARG_COMMAND})
    set_tests_properties(${test} PROPERTIES
                         LABELS cluster TIMEOUT ${ARG_TIMEOUT}
                         RESOURCE_LOCK caraway_cluster)
    if(ARG_PASS_REGULAR_EXPRESSION)
      set_tests_properties(${test} PROPERTIES
                           PASS_REGULAR_EXPRESSION
                           "${ARG_PASS_REGULAR_EXPRESSION}")
    endif()
  endforeach()
  if(NOT ARG_ONE_MODE)
    set_tests_properties(cluster.threads.${name} PROPERTIES
                         ENVIRONMENT CARAWAY_TEST_WORKER_MODE=threads)
  endif()
  if(ARG_INSECURE)
    set_tests_properties(cluster.insecure.${name} PROPERTIES
                         ENVIRONMENT CARAWAY_TEST_INSECURE=1)
  endif()
endfunction()
