# SPDX-License-Identifier: MIT
# The Debian packages (label "package"), run by ctest as `cmake -P`:
# scripts/package.sh builds them, this checks their names, fields, files and
# control files, unpacks both into a scratch root (dpkg -x), and checks with
# dpkg-shlibdeps what a program built against them will depend on.  The
# consumer tests (install_test.cmake, PREFIX=<root>/usr) then build and run
# tests/package/consumer against that root, by pkg-config and find_package.
#
# Inputs: SOURCE_DIR, WORK_DIR (the root is WORK_DIR/root), VERSION (the
# project's), MULTIARCH (lib/<MULTIARCH>), PLAIN_CC, PKG_CONFIG, READELF.
cmake_minimum_required(VERSION 3.25)

foreach(var SOURCE_DIR WORK_DIR VERSION MULTIARCH PLAIN_CC PKG_CONFIG READELF)
	if(NOT ${var})
		message(FATAL_ERROR "deb_test.cmake: ${var} is not set")
	endif()
endforeach()

# run(<out-var> <what> COMMAND...): runs, fails the test on a non-zero exit.
function(run out_var what)
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
		ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
	endif()
	set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(expect what text regex)
	if(NOT text MATCHES "${regex}")
		message(FATAL_ERROR "${what}: expected to match '${regex}', got:\n${text}")
	endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(debs "scripts/package.sh" bash ${SOURCE_DIR}/scripts/package.sh
	--build-dir ${WORK_DIR}/build --out-dir ${WORK_DIR}/debs)
message(STATUS "packages:\n${debs}")
run(arch "dpkg --print-architecture" dpkg --print-architecture)
set(rt ${WORK_DIR}/debs/libmemslots0_${VERSION}-1_${arch}.deb)
set(dev ${WORK_DIR}/debs/libmemslots-dev_${VERSION}-1_${arch}.deb)
foreach(deb ${rt} ${dev})
	if(NOT EXISTS ${deb})
		message(FATAL_ERROR "no ${deb}; scripts/package.sh made:\n${debs}")
	endif()
endforeach()

# ---- fields --------------------------------------------------------------
set(libdir ./usr/lib/${MULTIARCH})
run(rt_fields "dpkg-deb -f" dpkg-deb -f ${rt})
run(dev_fields "dpkg-deb -f" dpkg-deb -f ${dev})
message(STATUS "libmemslots0:\n${rt_fields}\nlibmemslots-dev:\n${dev_fields}")
expect("libmemslots0 Section" "${rt_fields}" "\nSection: libs\n")
expect("libmemslots-dev Section" "${dev_fields}" "\nSection: libdevel\n")
string(REGEX REPLACE "\\." "\\\\." version_re "${VERSION}")
expect("libmemslots-dev Depends" "${dev_fields}"
	"\nDepends: [^\n]*libmemslots0 \\(= ${version_re}-1\\)[^\n]*liburcu-dev")
# The runtime package must depend on the package that ships the liburcu
# flavour the library is linked with, whatever Debian calls it.
run(dyn "readelf -d" ${READELF} -d ${WORK_DIR}/build/libmemslots.so)
string(REGEX MATCH "\\[(liburcu-memb\\.so\\.[0-9]+)\\]" urcu "${dyn}")
if(NOT urcu)
	message(FATAL_ERROR "libmemslots.so does not need liburcu-memb:\n${dyn}")
endif()
run(owner "dpkg -S" dpkg -S "*/${CMAKE_MATCH_1}")
string(REGEX MATCH "^[^:]+" urcu_pkg "${owner}")
expect("libmemslots0 Depends (${urcu_pkg} ships ${CMAKE_MATCH_1})" "${rt_fields}"
	"\nDepends: ([^\n]*, )?${urcu_pkg} \\(>= [^)]+\\)")

# ---- files ----------------------------------------------------------------
run(rt_files "dpkg-deb -c" dpkg-deb -c ${rt})
run(dev_files "dpkg-deb -c" dpkg-deb -c ${dev})
foreach(f ${libdir}/libmemslots.so.0 ${libdir}/libmemslots.so.${VERSION}
		./usr/share/doc/libmemslots0/copyright)
	expect("libmemslots0 files" "${rt_files}" " ${f}( |\n|$)")
endforeach()
foreach(f ./usr/include/memslots/memslots.h ./usr/include/memslots/version.h
		${libdir}/libmemslots.so ${libdir}/libmemslots.a
		${libdir}/pkgconfig/memslots.pc ${libdir}/pkgconfig/memslots-static.pc
		${libdir}/cmake/memslots/memslotsConfig.cmake
		./usr/share/doc/libmemslots-dev/copyright)
	expect("libmemslots-dev files" "${dev_files}" " ${f}( |\n|$)")
endforeach()
# Each file in one package only: the link for -lmemslots in -dev, the
# library in the runtime package.
if(rt_files MATCHES "libmemslots\\.(a|so )|/include/|/cmake/|pkgconfig")
	message(FATAL_ERROR "development files in libmemslots0:\n${rt_files}")
endif()
if(dev_files MATCHES "${MULTIARCH}/libmemslots\\.so\\.")
	message(FATAL_ERROR "the shared library in libmemslots-dev:\n${dev_files}")
endif()

# ---- control files ---------------------------------------------------------
set(root ${WORK_DIR}/root)
file(MAKE_DIRECTORY ${root})
run(ignored "dpkg-deb -e" dpkg-deb -e ${rt} ${root}/DEBIAN)
foreach(f shlibs symbols)
	if(NOT EXISTS ${root}/DEBIAN/${f})
		message(FATAL_ERROR "libmemslots0 has no ${f} control file")
	endif()
endforeach()
file(READ ${root}/DEBIAN/shlibs shlibs)
expect("shlibs" "${shlibs}" "^libmemslots 0 libmemslots0 \\(>= ${version_re}-1\\)")

# ---- unpacked into a scratch root --------------------------------------------
foreach(deb ${rt} ${dev})
	run(ignored "dpkg -x ${deb}" dpkg -x ${deb} ${root})
endforeach()

# The static archive has the plain memslots_new alone: the 0.1 entry point
# and symbol versions are the shared library's (cmake/Abi.cmake).
run(archive "readelf -s libmemslots.a" ${READELF} -W -s ${root}/usr/lib/${MULTIARCH}/libmemslots.a)
if(archive MATCHES "@MEMSLOTS_" OR NOT archive MATCHES " memslots_new\n")
	message(FATAL_ERROR "libmemslots.a: want a plain memslots_new and no symbol versions")
endif()

# What dpkg-shlibdeps makes of a program built against these packages: it
# uses memslots_new's newest version, so it needs the release that added it.
run(syms "readelf --dyn-syms" ${READELF} -W --dyn-syms ${root}/usr/lib/${MULTIARCH}/libmemslots.so.0)
string(REGEX MATCH "memslots_new@@MEMSLOTS_([0-9]+\\.[0-9]+)" newest "${syms}")
set(need "libmemslots0 (>= ${CMAKE_MATCH_1}.0)")
set(ENV{PKG_CONFIG_PATH} ${root}/usr/lib/${MULTIARCH}/pkgconfig)
run(flags "pkg-config" ${PKG_CONFIG} --cflags --libs memslots)
separate_arguments(flags UNIX_COMMAND "${flags}")
set(sd ${WORK_DIR}/shlibdeps)
file(WRITE ${sd}/debian/control "Source: consumer\n\nPackage: consumer\nArchitecture: any\n")
run(ignored "cc consumer.c" ${PLAIN_CC} ${SOURCE_DIR}/tests/package/consumer/consumer.c
	${flags} -o ${sd}/consumer)
execute_process(COMMAND dpkg-shlibdeps -O -S${root} -l${root}/usr/lib/${MULTIARCH} consumer
	WORKING_DIRECTORY ${sd} RESULT_VARIABLE rc OUTPUT_VARIABLE deps ERROR_VARIABLE err)
message(STATUS "dpkg-shlibdeps consumer: ${deps}")
if(NOT rc EQUAL 0 OR NOT deps MATCHES "libmemslots0 \\(>= ${CMAKE_MATCH_1}\\.0\\)")
	message(FATAL_ERROR "dpkg-shlibdeps: want ${need}, got (${rc}) ${deps}\n${err}")
endif()
