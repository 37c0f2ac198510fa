# SPDX-License-Identifier: MIT
# Included by the package tests' `cmake -P` scripts that read a binary's
# ELF headers.
#
# memslots_readelf(<out-var> <readelf-arg>...): the output of READELF (the
# script's input) run with those arguments; the test fails when READELF
# is not set (no readelf was found) or readelf fails.
function(memslots_readelf out_var)
	string(JOIN " " args ${ARGN})
	if(NOT READELF)
		message(FATAL_ERROR "readelf not found; cannot run readelf ${args}")
	endif()
	execute_process(COMMAND ${READELF} ${ARGN} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "readelf ${args} failed")
	endif()
	set(${out_var} "${out}" PARENT_SCOPE)
endfunction()
