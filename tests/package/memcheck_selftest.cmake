# SPDX-License-Identifier: MIT
# Proves that `ctest -T memcheck` fails on a definite leak, run by ctest as
# `cmake -P memcheck_selftest.cmake -DDART_CONFIG=... -DPROGRAM=...`.
#
# It reads the memory checker, its options and the suppressions file from
# the build's DartConfiguration.tcl, which is exactly what ctest -T memcheck
# uses, and runs PROGRAM under it the way ctest does: leaking, the checker
# must exit non-zero and report the block definitely lost; with --no-leak
# it must exit 0 (so the failure comes from the leak, not from the options).
cmake_minimum_required(VERSION 3.25)

file(STRINGS ${DART_CONFIG} lines REGEX "^MemoryCheck(Command|CommandOptions|SuppressionFile):")
set(cmd)
set(opts)
set(supp)
foreach(l IN LISTS lines)
	if(l MATCHES "^MemoryCheckCommand: *(.*)$")
		set(cmd "${CMAKE_MATCH_1}")
	elseif(l MATCHES "^MemoryCheckCommandOptions: *(.*)$")
		set(opts "${CMAKE_MATCH_1}")
	elseif(l MATCHES "^MemoryCheckSuppressionFile: *(.*)$")
		set(supp "${CMAKE_MATCH_1}")
	endif()
endforeach()
message(STATUS "MemoryCheckCommand: ${cmd}")
message(STATUS "MemoryCheckCommandOptions: ${opts}")
message(STATUS "MemoryCheckSuppressionFile: ${supp}")

if(NOT cmd MATCHES "valgrind")
	message(FATAL_ERROR "the memory checker is not valgrind (${cmd})")
endif()
if(opts STREQUAL "")
	# ctest's own default, which never changes valgrind's exit status
	set(opts "-q --tool=memcheck --leak-check=yes --show-reachable=yes --num-callers=50")
endif()
separate_arguments(opts UNIX_COMMAND "${opts}")
set(args ${opts})
if(supp)
	if(NOT EXISTS ${supp})
		message(FATAL_ERROR "the suppressions file ${supp} does not exist")
	endif()
	list(APPEND args --suppressions=${supp})
endif()

execute_process(COMMAND ${cmd} ${args} ${PROGRAM} RESULT_VARIABLE rc OUTPUT_VARIABLE out
	ERROR_VARIABLE out)
# Output only on failure: ctest -T memcheck scans test output for valgrind
# reports and would count this intended leak as a defect of this test.
message(STATUS "leaking program under ${cmd} ${args}: exit ${rc}")
if(NOT rc EQUAL 0 AND out MATCHES "definitely lost")
	message(STATUS "a definite leak fails the check, as it should")
else()
	message(STATUS "${out}")
endif()
if(rc EQUAL 0)
	message(FATAL_ERROR "a definite leak leaves the exit status 0: ctest -T memcheck would "
		"pass leaking tests; MEMORYCHECK_COMMAND_OPTIONS needs --error-exitcode=1 "
		"--leak-check=full --errors-for-leak-kinds=definite")
endif()
if(NOT out MATCHES "definitely lost")
	message(FATAL_ERROR "exit ${rc}, but no definite leak reported: something else failed")
endif()

execute_process(COMMAND ${cmd} ${args} ${PROGRAM} --no-leak RESULT_VARIABLE rc
	OUTPUT_VARIABLE out ERROR_VARIABLE out)
message(STATUS "clean program: exit ${rc}")
if(NOT rc EQUAL 0)
	message(STATUS "${out}")
	message(FATAL_ERROR "the same options fail a program that does not leak")
endif()
