# SPDX-License-Identifier: MIT
# Install rules, in two components, and the Debian packages CPack makes of
# them (scripts/package.sh):
#   runtime -> libmemslots0     the shared library
#   dev     -> libmemslots-dev  headers, static library, the libmemslots.so
#                               link, CMake package, pkg-config files
#                               (memslots.pc, memslots-static.pc)
# Configured with CMAKE_INSTALL_PREFIX=/usr on Debian, GNUInstallDirs puts
# the libraries in the multiarch directory (lib/x86_64-linux-gnu).
#
# As a subproject (add_subdirectory, FetchContent) nothing is installed
# unless MEMSLOTS_INSTALL is set, and CPack is left to the parent: our
# CPACK_* settings and CPackConfig.cmake would replace its own.
if(NOT MEMSLOTS_INSTALL)
	return()
endif()

install(TARGETS memslots memslots_static EXPORT memslotsTargets
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
	RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY include/memslots DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
	FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/memslots/version.h
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/memslots COMPONENT dev)
set(MEMSLOTS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/memslots)
install(EXPORT memslotsTargets NAMESPACE memslots:: DESTINATION ${MEMSLOTS_CMAKE_DIR}
	COMPONENT dev)
configure_package_config_file(cmake/memslotsConfig.cmake.in
	${PROJECT_BINARY_DIR}/memslotsConfig.cmake INSTALL_DESTINATION ${MEMSLOTS_CMAKE_DIR})
# Every 0.x release keeps the API and ABI of the earlier ones (docs/abi.md),
# so a request for 0.1 is met by 0.2.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/memslotsConfigVersion.cmake
	COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/memslotsConfig.cmake
	${PROJECT_BINARY_DIR}/memslotsConfigVersion.cmake cmake/memslotsUrcu.cmake
	DESTINATION ${MEMSLOTS_CMAKE_DIR} COMPONENT dev)
# A relocatable memslots.pc: the prefix is found from the file's own place,
# so `cmake --install --prefix` anywhere gives a correct one.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	set(MEMSLOTS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
	string(REGEX REPLACE "[^/]+" ".." MEMSLOTS_PC_UP "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
	set(MEMSLOTS_PC_PREFIX "\${pcfiledir}/${MEMSLOTS_PC_UP}")
endif()
# liburcu's link flags are written out rather than taken through Requires:
# liburcu-memb.pc lists -lurcu-common before -lurcu-memb, which a static
# link cannot resolve, and its Cflags add -I/usr/include/<multiarch> on
# Debian, which no public header of ours needs.  MEMSLOTS_URCU_LIBS is
# already in link order (memslotsUrcu.cmake); its -L is kept only where the
# compiler would not search anyway.
set(MEMSLOTS_PC_URCU_LIBS)
foreach(dir IN LISTS MEMSLOTS_URCU_PC_LIBRARY_DIRS)
	if(NOT dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
		list(APPEND MEMSLOTS_PC_URCU_LIBS "-L${dir}")
	endif()
endforeach()
list(TRANSFORM MEMSLOTS_URCU_LIBS PREPEND -l OUTPUT_VARIABLE urcu_l)
list(APPEND MEMSLOTS_PC_URCU_LIBS ${urcu_l} ${MEMSLOTS_URCU_PC_LDFLAGS_OTHER} -lpthread)
list(JOIN MEMSLOTS_PC_URCU_LIBS " " MEMSLOTS_PC_URCU_LIBS)
# memslots.pc: -lmemslots, which is the shared library when both are
# installed (or the archive under -static).  memslots-static.pc: the
# archive by name (-l:libmemslots.a) whatever else is installed, for a
# static libmemslots in an otherwise dynamic program as well as for a
# fully static one.
foreach(pc memslots memslots-static)
	configure_file(cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
	install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc
		DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
endforeach()
# Debian wants the license of each binary package beside its other docs.
foreach(component runtime dev)
	if(component STREQUAL "runtime")
		set(pkg libmemslots${MEMSLOTS_SOVERSION})
	else()
		set(pkg libmemslots-dev)
	endif()
	set(MEMSLOTS_DEB_PACKAGE_${component} ${pkg})
	install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg}
		RENAME copyright COMPONENT ${component})
endforeach()

# ---- CPack: two .deb files ---------------------------------------------------
if(NOT PROJECT_IS_TOP_LEVEL)
	return()
endif()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libmemslots)
set(CPACK_PACKAGE_VENDOR "libmemslots developers")
set(CPACK_PACKAGE_CONTACT "libmemslots developers <maintainers@users.noreply.r-seed-bfa39320.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SOURCE libmemslots)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${MEMSLOTS_DEB_PACKAGE_runtime})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# Depends from dpkg-shlibdeps: liburcu8 (liburcu-memb's runtime) and libc6.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# shlibs for tools that read only that; the symbols file is more precise
# (which release each symbol version needs) and dpkg-shlibdeps prefers it.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
find_program(MEMSLOTS_READELF NAMES readelf)
set(MEMSLOTS_DEB_SYMBOLS ${PROJECT_BINARY_DIR}/debian/runtime/symbols)
if(MEMSLOTS_READELF)
	add_custom_command(TARGET memslots POST_BUILD
		COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:memslots> -DREADELF=${MEMSLOTS_READELF}
			-DPACKAGE=${MEMSLOTS_DEB_PACKAGE_runtime} -DDEV_PACKAGE=${MEMSLOTS_DEB_PACKAGE_dev}
			-DOUT=${MEMSLOTS_DEB_SYMBOLS} -P ${PROJECT_SOURCE_DIR}/cmake/debian/symbols.cmake
		VERBATIM)
	set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${MEMSLOTS_DEB_SYMBOLS})
endif()
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
"${PROJECT_DESCRIPTION} - shared library
 libmemslots keeps a virtual machine monitor's view of its guest memory
 slots with the design of Linux KVM's scalable memslots: RCU-published
 sets, lock-free lookups by guest frame, host address and id, and atomic
 batches of changes.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmemslots-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The CMake package finds liburcu-memb through pkg-config, for the static
# library; the shared one comes from the runtime package, same version.
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "liburcu-dev, pkgconf | pkg-config")
set(CPACK_DEBIAN_DEV_DESCRIPTION
"${PROJECT_DESCRIPTION} - development files
 Headers, the static library, the CMake package (find_package(memslots))
 and the pkg-config files (memslots.pc, memslots-static.pc) of libmemslots.")

include(CPack)
