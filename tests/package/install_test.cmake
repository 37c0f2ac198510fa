# SPDX-License-Identifier: MIT
# Install-tree tests, run by ctest as `cmake -P install_test.cmake`:
#
#   -DMODE=install           cmake --install BUILD_DIR into PREFIX (fresh)
#   -DMODE=cmake-shared      consumer through find_package, memslots::memslots
#   -DMODE=cmake-static      ... memslots::memslots_static; no DT_NEEDED on it
#   -DMODE=pkgconfig-shared  consumer through `pkg-config --cflags --libs`
#   -DMODE=pkgconfig-static  `pkg-config --static`, against libmemslots.a
#
# Other inputs: BUILD_DIR, PREFIX, WORK_DIR, LIBDIR (relative install libdir),
# CONSUMER_DIR, C_COMPILER, PLAIN_CC (cc), GENERATOR, CONFIG, PKG_CONFIG, READELF.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE BUILD_DIR PREFIX WORK_DIR LIBDIR CONSUMER_DIR C_COMPILER GENERATOR)
	if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
		message(FATAL_ERROR "install_test.cmake: ${var} is not set")
	endif()
endforeach()

# run(<what> COMMAND...): runs, echoes, fails the test on a non-zero exit.
function(run what)
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
		ERROR_VARIABLE out)
	message(STATUS "${what}:\n${out}")
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${what} failed (${rc})")
	endif()
endfunction()

# needed(<exe> <out-var>): the DT_NEEDED entries of a binary.
function(needed exe out_var)
	if(NOT READELF)
		message(FATAL_ERROR "readelf not found; cannot check how ${exe} was linked")
	endif()
	execute_process(COMMAND ${READELF} -d ${exe} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "readelf -d ${exe} failed")
	endif()
	string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[[^]]*\\]" lines "${dyn}")
	set(${out_var} "${lines}" PARENT_SCOPE)
	message(STATUS "${exe} needs: ${lines}")
endfunction()

function(expect_shared exe)
	needed(${exe} libs)
	if(NOT libs MATCHES "\\[libmemslots\\.so\\.0\\]")
		message(FATAL_ERROR "${exe} does not need libmemslots.so.0: not linked to the shared library")
	endif()
endfunction()

function(expect_static exe)
	needed(${exe} libs)
	if(libs MATCHES "libmemslots")
		message(FATAL_ERROR "${exe} needs ${libs}: memslots was not linked statically")
	endif()
endfunction()

set(libdir ${PREFIX}/${LIBDIR})

if(MODE STREQUAL "install")
	file(REMOVE_RECURSE ${PREFIX})
	set(cfg)
	if(CONFIG)
		set(cfg --config ${CONFIG})
	endif()
	run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} ${cfg})
	foreach(f include/memslots/memslots.h include/memslots/export.h include/memslots/version.h
			${LIBDIR}/libmemslots.a ${LIBDIR}/libmemslots.so ${LIBDIR}/libmemslots.so.0
			${LIBDIR}/cmake/memslots/memslotsConfig.cmake
			${LIBDIR}/cmake/memslots/memslotsConfigVersion.cmake
			${LIBDIR}/pkgconfig/memslots.pc)
		if(NOT EXISTS ${PREFIX}/${f})
			message(FATAL_ERROR "not installed: ${PREFIX}/${f}")
		endif()
	endforeach()
	# Nothing of the build tree may leak into the installed package files.
	file(GLOB_RECURSE pkgfiles ${libdir}/cmake/memslots/*.cmake ${libdir}/pkgconfig/*.pc)
	foreach(f IN LISTS pkgfiles)
		file(READ ${f} text)
		string(FIND "${text}" "${BUILD_DIR}" pos)
		if(NOT pos EQUAL -1)
			message(FATAL_ERROR "${f} refers to the build tree ${BUILD_DIR}")
		endif()
	endforeach()
	return()
endif()

set(dir ${WORK_DIR}/${MODE})
file(REMOVE_RECURSE ${dir})
file(MAKE_DIRECTORY ${dir})

if(MODE MATCHES "^cmake-(shared|static)$")
	if(CMAKE_MATCH_1 STREQUAL "static")
		set(static ON)
	else()
		set(static OFF)
	endif()
	set(build_type)
	if(CONFIG)
		set(build_type -DCMAKE_BUILD_TYPE=${CONFIG})
	endif()
	# Only the temporary prefix: no package registry, no system memslots.
	run("configure the consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${dir} -G ${GENERATOR}
		-DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${PREFIX}
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
		-DCONSUMER_STATIC=${static} ${build_type})
	file(STRINGS ${dir}/CMakeCache.txt found REGEX "^memslots_DIR:")
	if(NOT found STREQUAL "memslots_DIR:PATH=${libdir}/cmake/memslots")
		message(FATAL_ERROR "found the wrong package: ${found}")
	endif()
	run("build the consumer" ${CMAKE_COMMAND} --build ${dir} --verbose)
	file(GLOB_RECURSE exe LIST_DIRECTORIES false ${dir}/consumer)
	if(NOT exe)
		message(FATAL_ERROR "no consumer binary in ${dir}")
	endif()
	list(GET exe 0 exe)
	if(static)
		expect_static(${exe})
	else()
		expect_shared(${exe})
	endif()
	# No LD_LIBRARY_PATH: the shared consumer must find the installed
	# library through the build RPATH CMake gives imported targets.
	run("run the consumer" ${exe})
	return()
endif()

if(MODE MATCHES "^pkgconfig-(shared|static)$")
	set(kind ${CMAKE_MATCH_1})
	if(NOT PKG_CONFIG)
		message(FATAL_ERROR "pkg-config not found")
	endif()
	set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)
	unset(ENV{PKG_CONFIG_LIBDIR})
	set(static_flag)
	if(kind STREQUAL "static")
		set(static_flag --static)
	endif()
	execute_process(COMMAND ${PKG_CONFIG} ${static_flag} --cflags --libs memslots
		OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "pkg-config ${static_flag} --cflags --libs memslots failed")
	endif()
	message(STATUS "pkg-config ${static_flag} --cflags --libs memslots: ${flags}")
	separate_arguments(flags UNIX_COMMAND "${flags}")
	# The -I and -L must lead into the prefix the package was installed
	# to (cmake --install --prefix), however they are spelled.
	file(REAL_PATH ${libdir} want_lib)
	file(REAL_PATH ${PREFIX}/include want_inc)
	set(have_lib OFF)
	set(have_inc OFF)
	foreach(f IN LISTS flags)
		if(NOT f MATCHES "^-([IL])(.+)$")
			continue()
		endif()
		set(kind_flag ${CMAKE_MATCH_1})
		set(p "${CMAKE_MATCH_2}")
		if(NOT IS_DIRECTORY "${p}")
			continue()
		endif()
		file(REAL_PATH "${p}" p)
		if(kind_flag STREQUAL "L" AND p STREQUAL want_lib)
			set(have_lib ON)
		elseif(kind_flag STREQUAL "I" AND p STREQUAL want_inc)
			set(have_inc ON)
		endif()
	endforeach()
	if(NOT have_lib OR NOT have_inc)
		message(FATAL_ERROR "memslots.pc does not point into the prefix ${PREFIX} it was "
			"installed to (no -I${PREFIX}/include or no -L${libdir}): it is not "
			"relocatable")
	endif()
	if(kind STREQUAL "static")
		# Both libraries are installed and -lmemslots picks the shared
		# one; a static link names the archive and keeps the rest of
		# what --static gave (urcu, pthread).
		list(TRANSFORM flags REPLACE "^-lmemslots$" "${libdir}/libmemslots.a")
	endif()
	# A plain cc command, as a Makefile-based user would write it.
	if(NOT PLAIN_CC)
		set(PLAIN_CC ${C_COMPILER})
	endif()
	run("cc consumer.c" ${PLAIN_CC} ${CONSUMER_DIR}/consumer.c ${flags} -o ${dir}/consumer)
	if(kind STREQUAL "static")
		expect_static(${dir}/consumer)
		run("run the consumer" ${dir}/consumer)
	else()
		expect_shared(${dir}/consumer)
		run("run the consumer" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${libdir}
			${dir}/consumer)
	endif()
	return()
endif()

message(FATAL_ERROR "install_test.cmake: unknown MODE ${MODE}")
