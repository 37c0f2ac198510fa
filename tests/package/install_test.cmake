# SPDX-License-Identifier: MIT
# Install-tree and subproject tests, run by ctest as `cmake -P install_test.cmake`:
#
#   -DMODE=install           cmake --install BUILD_DIR into PREFIX (fresh)
#   -DMODE=cmake-shared      consumer through find_package, memslots::memslots
#   -DMODE=cmake-static      ... memslots::memslots_static; no DT_NEEDED on it
#   -DMODE=cmake-fully-static  ... and -static: no DT_NEEDED at all
#   -DMODE=pkgconfig-shared  consumer through `pkg-config --cflags --libs memslots`
#   -DMODE=pkgconfig-static  `pkg-config --cflags --libs memslots-static`, the
#                            archive in an otherwise dynamic program
#   -DMODE=pkgconfig-fully-static  `pkg-config --static` of memslots-static
#                            and of memslots, each linked with -static
#   -DMODE=subproject-add_subdirectory  tests/package/subproject, the source
#                            tree added with BUILD_TESTING=OFF in the parent
#   -DMODE=subproject-FetchContent  the same through FetchContent, the
#                            parent's BUILD_TESTING=ON
#   -DMODE=toplevel-testing  the source tree configured on its own:
#                            BUILD_TESTING=OFF leaves out every test and
#                            example target
#
# Other inputs: BUILD_DIR, PREFIX, WORK_DIR, LIBDIR (relative install libdir),
# CONSUMER_DIR, C_COMPILER, PLAIN_CC (cc), GENERATOR, CONFIG, PKG_CONFIG, READELF;
# SOURCE_DIR and SUBPROJECT_DIR for the last three modes.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/readelf.cmake)

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
	memslots_readelf(dyn -d ${exe})
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

function(expect_fully_static exe)
	needed(${exe} libs)
	if(libs)
		message(FATAL_ERROR "${exe} needs ${libs}: not a fully static program")
	endif()
endfunction()

# target_dirs(<build-dir> <out-var>): the targets the last generate made,
# one CMakeFiles/<target>.dir each (rewritten by every configure).
function(target_dirs bdir out_var)
	file(STRINGS ${bdir}/CMakeFiles/TargetDirectories.txt dirs)
	set(${out_var} "${dirs}" PARENT_SCOPE)
endfunction()

# The targets only the tests bring (tests/, tests/support, the stress
# program, the package tests).
set(test_target_re "/(memslots_support|memslots_stress|test_model|memslots_leak_selftest)\\.dir$")

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
			${LIBDIR}/pkgconfig/memslots.pc ${LIBDIR}/pkgconfig/memslots-static.pc)
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
set(build_type)
if(CONFIG)
	set(build_type -DCMAKE_BUILD_TYPE=${CONFIG})
endif()

if(MODE MATCHES "^subproject-(add_subdirectory|FetchContent)$")
	set(via ${CMAKE_MATCH_1})
	# The parent's BUILD_TESTING, either way, is its own business.
	if(via STREQUAL "add_subdirectory")
		set(testing OFF)
	else()
		set(testing ON)
	endif()
	set(bdir ${dir}/build)
	run("configure the parent" ${CMAKE_COMMAND} -S ${SUBPROJECT_DIR} -B ${bdir}
		-G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} ${build_type}
		-DMEMSLOTS_SOURCE_DIR=${SOURCE_DIR} -DSUBPROJECT_VIA=${via}
		-DBUILD_TESTING=${testing})
	target_dirs(${bdir} targets)
	list(FILTER targets INCLUDE REGEX "${test_target_re}|/(hello_memslots|memslots_vmm)\\.dir$")
	if(targets)
		message(FATAL_ERROR "the subproject made test or example targets: ${targets}")
	endif()
	file(GLOB_RECURSE testfiles ${bdir}/CTestTestfile.cmake)
	foreach(f IN LISTS testfiles)
		file(STRINGS ${f} tests REGEX "^add_test")
		if(tests)
			message(FATAL_ERROR "tests registered in ${f}: ${tests}")
		endif()
	endforeach()
	run("build the parent" ${CMAKE_COMMAND} --build ${bdir} --parallel 2)
	file(GLOB_RECURSE shared_exe LIST_DIRECTORIES false ${bdir}/consumer_shared)
	file(GLOB_RECURSE static_exe LIST_DIRECTORIES false ${bdir}/consumer_static)
	if(NOT shared_exe OR NOT static_exe)
		message(FATAL_ERROR "no consumer binaries in ${bdir}")
	endif()
	expect_shared(${shared_exe})
	expect_fully_static(${static_exe})
	run("run the shared consumer" ${shared_exe})
	run("run the static consumer" ${static_exe})
	# The parent's install has its own files only, none of ours.
	run("install the parent" ${CMAKE_COMMAND} --install ${bdir} --prefix ${dir}/prefix)
	file(GLOB_RECURSE installed RELATIVE ${dir}/prefix ${dir}/prefix/*)
	if(NOT installed STREQUAL "bin/consumer_static")
		message(FATAL_ERROR "the parent's install has more than its bin/consumer_static: "
			"${installed}")
	endif()
	return()
endif()

if(MODE STREQUAL "toplevel-testing")
	# configure(<what> <want-tests> -D...): reconfigures dir, checks whether
	# the test and example targets are there.
	function(configure what want)
		run("configure ${what}" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${dir} -G ${GENERATOR}
			-DCMAKE_C_COMPILER=${C_COMPILER} ${build_type} ${ARGN})
		target_dirs(${dir} targets)
		list(FILTER targets INCLUDE REGEX "${test_target_re}|/(hello_memslots|memslots_vmm)\\.dir$")
		if(want AND NOT targets)
			message(FATAL_ERROR "${what}: no test targets")
		elseif(NOT want AND targets)
			message(FATAL_ERROR "${what}: test targets made: ${targets}")
		endif()
	endfunction()
	configure("with BUILD_TESTING=OFF" OFF -DBUILD_TESTING=OFF)
	if(EXISTS ${dir}/DartConfiguration.tcl)
		message(FATAL_ERROR "BUILD_TESTING=OFF, yet include(CTest) ran")
	endif()
	# The same build directory follows BUILD_TESTING when it changes,
	# unless MEMSLOTS_BUILD_TESTS is given.
	configure("again with BUILD_TESTING=ON" ON -DBUILD_TESTING=ON)
	configure("again with BUILD_TESTING=OFF" OFF -DBUILD_TESTING=OFF)
	configure("with BUILD_TESTING=OFF, MEMSLOTS_BUILD_TESTS=ON" ON
		-DBUILD_TESTING=OFF -DMEMSLOTS_BUILD_TESTS=ON)
	return()
endif()

if(MODE MATCHES "^cmake-(shared|static|fully-static)$")
	set(kind ${CMAKE_MATCH_1})
	set(static OFF)
	set(fully_static OFF)
	if(kind STREQUAL "static")
		set(static ON)
	elseif(kind STREQUAL "fully-static")
		set(static ON)
		set(fully_static ON)
	endif()
	# Only the temporary prefix: no package registry, no system memslots.
	run("configure the consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${dir} -G ${GENERATOR}
		-DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${PREFIX}
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
		-DCONSUMER_STATIC=${static} -DCONSUMER_FULLY_STATIC=${fully_static} ${build_type})
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
	if(fully_static)
		expect_fully_static(${exe})
	elseif(static)
		expect_static(${exe})
	else()
		expect_shared(${exe})
	endif()
	# No LD_LIBRARY_PATH: the shared consumer must find the installed
	# library through the build RPATH CMake gives imported targets.
	run("run the consumer" ${exe})
	return()
endif()

if(MODE MATCHES "^pkgconfig-(shared|static|fully-static)$")
	set(kind ${CMAKE_MATCH_1})
	if(NOT PKG_CONFIG)
		message(FATAL_ERROR "pkg-config not found")
	endif()
	set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)
	unset(ENV{PKG_CONFIG_LIBDIR})
	file(REAL_PATH ${libdir} want_lib)
	file(REAL_PATH ${PREFIX}/include want_inc)

	# pc_flags(<out-var> <pkg-config args>...): the flags, checked: -L and -I
	# into the prefix the package was installed to (cmake --install
	# --prefix), however spelled, and no -I but that one (liburcu's .pc
	# adds -I/usr/include/<multiarch>, which none of our headers needs).
	function(pc_flags out_var)
		list(JOIN ARGN " " args)
		execute_process(COMMAND ${PKG_CONFIG} ${ARGN}
			OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
		if(NOT rc EQUAL 0)
			message(FATAL_ERROR "pkg-config ${args} failed")
		endif()
		message(STATUS "pkg-config ${args}: ${flags}")
		separate_arguments(flags UNIX_COMMAND "${flags}")
		set(have_lib OFF)
		set(have_inc OFF)
		foreach(f IN LISTS flags)
			if(NOT f MATCHES "^-([IL])(.+)$")
				continue()
			endif()
			set(kind_flag ${CMAKE_MATCH_1})
			set(p "${CMAKE_MATCH_2}")
			if(IS_DIRECTORY "${p}")
				file(REAL_PATH "${p}" p)
			endif()
			if(kind_flag STREQUAL "L" AND p STREQUAL want_lib)
				set(have_lib ON)
			elseif(kind_flag STREQUAL "I")
				if(NOT p STREQUAL want_inc)
					message(FATAL_ERROR "pkg-config ${args}: stray ${f} (want only "
						"-I${PREFIX}/include)")
				endif()
				set(have_inc ON)
			endif()
		endforeach()
		if(NOT have_lib OR NOT have_inc)
			message(FATAL_ERROR "pkg-config ${args} does not point into the prefix "
				"${PREFIX} it was installed to (no -I${PREFIX}/include or no "
				"-L${libdir}): the .pc is not relocatable")
		endif()
		set(${out_var} "${flags}" PARENT_SCOPE)
	endfunction()

	# A plain cc command, as a Makefile-based user would write it.
	if(NOT PLAIN_CC)
		set(PLAIN_CC ${C_COMPILER})
	endif()
	if(kind STREQUAL "shared")
		pc_flags(flags --cflags --libs memslots)
		run("cc consumer.c" ${PLAIN_CC} ${CONSUMER_DIR}/consumer.c ${flags} -o ${dir}/consumer)
		expect_shared(${dir}/consumer)
		run("run the consumer" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${libdir}
			${dir}/consumer)
	elseif(kind STREQUAL "static")
		# Both libraries are installed: memslots-static names the archive,
		# the rest (liburcu, libc) stays dynamic.
		pc_flags(flags --cflags --libs memslots-static)
		run("cc consumer.c" ${PLAIN_CC} ${CONSUMER_DIR}/consumer.c ${flags} -o ${dir}/consumer)
		expect_static(${dir}/consumer)
		run("run the consumer" ${dir}/consumer)
	else()
		# Fully static, from either file: liburcu-memb must come before
		# liburcu-common, which it uses, and both after libmemslots.
		foreach(pc memslots-static memslots)
			pc_flags(flags --static --cflags --libs ${pc})
			list(FIND flags -lurcu-memb memb)
			list(FIND flags -lurcu-common common)
			if(memb EQUAL -1 OR common EQUAL -1 OR memb GREATER common)
				message(FATAL_ERROR "pkg-config --static --libs ${pc}: want "
					"-lurcu-memb before -lurcu-common, got ${flags}")
			endif()
			run("cc -static consumer.c (${pc})" ${PLAIN_CC} ${CONSUMER_DIR}/consumer.c
				${flags} -static -o ${dir}/consumer-${pc})
			expect_fully_static(${dir}/consumer-${pc})
			run("run the consumer (${pc})" ${dir}/consumer-${pc})
		endforeach()
	endif()
	return()
endif()

message(FATAL_ERROR "install_test.cmake: unknown MODE ${MODE}")
