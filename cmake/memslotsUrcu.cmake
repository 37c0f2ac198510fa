# SPDX-License-Identifier: MIT
# Defines memslots::urcu, liburcu's memb flavor found through pkg-config.
# Used both by the build and by the installed package config, so that
# consumers of memslots::memslots_static get liburcu too.
#
# The libraries are given by name with their directory, not as full paths
# to the .so files, so a consumer linking with -static gets the .a files;
# and liburcu-memb comes before liburcu-common, which it uses, as static
# archives need.
if(NOT TARGET memslots::urcu)
	find_package(PkgConfig REQUIRED)
	pkg_check_modules(MEMSLOTS_URCU_PC REQUIRED liburcu-memb)
	set(MEMSLOTS_URCU_LIBS ${MEMSLOTS_URCU_PC_LIBRARIES})
	list(REMOVE_ITEM MEMSLOTS_URCU_LIBS urcu-memb)
	list(PREPEND MEMSLOTS_URCU_LIBS urcu-memb)
	add_library(memslots::urcu INTERFACE IMPORTED)
	set_target_properties(memslots::urcu PROPERTIES
		INTERFACE_INCLUDE_DIRECTORIES "${MEMSLOTS_URCU_PC_INCLUDE_DIRS}"
		INTERFACE_LINK_DIRECTORIES "${MEMSLOTS_URCU_PC_LIBRARY_DIRS}"
		INTERFACE_LINK_LIBRARIES "${MEMSLOTS_URCU_LIBS}")
endif()
