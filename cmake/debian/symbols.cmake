# SPDX-License-Identifier: MIT
# Writes the Debian symbols file of the runtime package from the built
# library (run after each link of libmemslots.so, cmake/Packaging.cmake):
#
#   cmake -DLIB=<libmemslots.so.X.Y.Z> -DREADELF=<readelf> -DPACKAGE=<name>
#         -DDEV_PACKAGE=<name> -DOUT=<symbols> -P symbols.cmake
#
# One line per exported symbol, name@NODE, with the first release that
# has it: the one its version node is named after (MEMSLOTS_0.2 -> 0.2.0).
# dpkg-shlibdeps then gives a program "libmemslots0 (>= 0.2.0)" when it uses
# memslots_new@MEMSLOTS_0.2, and (>= 0.1.0) when it uses only 0.1 symbols.
# (dpkg-shlibdeps does not read (symver) patterns from an installed file,
# so each symbol is listed.)
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND ${READELF} -W --dyn-syms ${LIB} OUTPUT_VARIABLE dynsyms
	RESULT_VARIABLE rc)
execute_process(COMMAND ${READELF} -d ${LIB} OUTPUT_VARIABLE dynamic)
if(NOT rc EQUAL 0 OR NOT dynamic MATCHES "\\(SONAME\\)[^[]*\\[([^]]+)\\]")
	message(FATAL_ERROR "readelf could not read ${LIB}")
endif()
set(soname ${CMAKE_MATCH_1})

string(REGEX MATCHALL "[^ \n]+@@?MEMSLOTS_[0-9]+\\.[0-9]+" names "${dynsyms}")
set(lines)
foreach(name IN LISTS names)
	string(REGEX REPLACE "@@?" "@" name "${name}")
	string(REGEX MATCH "MEMSLOTS_([0-9]+\\.[0-9]+)$" node "${name}")
	list(APPEND lines " ${name} ${CMAKE_MATCH_1}.0")
endforeach()
list(REMOVE_DUPLICATES lines)
list(SORT lines)
if(NOT lines)
	message(FATAL_ERROR "${LIB} exports no versioned symbol")
endif()
list(JOIN lines "\n" body)
file(WRITE ${OUT} "${soname} ${PACKAGE} #MINVER#\n* Build-Depends-Package: ${DEV_PACKAGE}\n${body}\n")
