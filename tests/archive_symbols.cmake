# SPDX-License-Identifier: MIT
# Fails unless every global symbol the static archive defines is a public
# name (memslots_*) or one reserved to the library (memslots__*): internal
# names must not clash with an application linked against libmemslots.a.
#   cmake -DNM=<nm> -DARCHIVE=<libmemslots.a> -P archive_symbols.cmake
execute_process(COMMAND ${NM} -g --defined-only ${ARCHIVE}
	OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${NM} failed on ${ARCHIVE}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad)
set(good 0)
foreach(line IN LISTS lines)
	# "<address> <type> <name>"; archive member headers and blanks have no type
	if(line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ ]+)$")
		set(sym ${CMAKE_MATCH_1})
		if(sym MATCHES "^memslots_")
			math(EXPR good "${good} + 1")
		else()
			list(APPEND bad ${sym})
		endif()
	endif()
endforeach()
if(bad)
	message(FATAL_ERROR "global symbols outside memslots_* in ${ARCHIVE}: ${bad}")
endif()
if(good EQUAL 0)
	message(FATAL_ERROR "no memslots_* symbol found in ${ARCHIVE}")
endif()
message(STATUS "${good} global symbols, all memslots_*")
