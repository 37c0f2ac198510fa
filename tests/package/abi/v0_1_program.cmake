# SPDX-License-Identifier: MIT
# Runs v0_1_program (see v0_1_program.c), as ctest's `cmake -P`:
#   -DMODE=unversioned  against the unversioned library (OLD_LIBDIR): only
#                       that the version check sees no versions there
#   -DMODE=expect-0.1   against the current library (NEW_LIBDIR); the program
#                       compares the address its reference got with those
#                       of dlvsym(memslots_new, MEMSLOTS_0.1 / 0.2).  With
#                       LD_DEBUG=bindings, ld.so must show that reference
#                       unversioned (ld.so prints the version a reference
#                       asks for, not the one it got).
#   -DMODE=overread     against the current library: the guard page faults
# First checks that the program carries no symbol version requirement on
# libmemslots, i.e. that it is what a 0.1 build was.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/../readelf.cmake)

memslots_readelf(versions -V ${PROGRAM})
if(versions MATCHES "MEMSLOTS_")
	message(FATAL_ERROR "${PROGRAM} requires symbol versions of libmemslots:\n${versions}")
endif()

set(env LD_LIBRARY_PATH=${NEW_LIBDIR})
if(MODE STREQUAL "unversioned")
	set(env LD_LIBRARY_PATH=${OLD_LIBDIR})
elseif(MODE STREQUAL "expect-0.1")
	list(APPEND env LD_DEBUG=bindings)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env} ${PROGRAM} ${MODE}
	RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "v0_1_program ${MODE} failed (${rc}):\n${err}")
endif()
if(MODE STREQUAL "expect-0.1")
	string(REGEX MATCHALL "[^\n]*binding file [^\n]*v0_1_program[^\n]*`memslots_new'[^\n]*"
		lines "${err}")
	set(unversioned)
	foreach(line IN LISTS lines)
		message(STATUS "ld.so: ${line}")
		if(line MATCHES "libmemslots\\.so\\.0 \\[0\\]: normal symbol `memslots_new'$")
			set(unversioned "${line}")
		endif()
	endforeach()
	if(NOT unversioned)
		message(FATAL_ERROR "LD_DEBUG=bindings showed no unversioned reference to "
			"memslots_new bound in libmemslots.so.0")
	endif()
endif()
