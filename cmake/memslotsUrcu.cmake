# SPDX-License-Identifier: MIT
# Defines memslots::urcu, liburcu's memb flavor found through pkg-config.
# Used both by the build and by the installed package config, so that
# static consumers of memslots::memslots_static get -lurcu-memb -lurcu-common.
if(NOT TARGET memslots::urcu)
	find_package(PkgConfig REQUIRED)
	pkg_check_modules(MEMSLOTS_URCU_PC REQUIRED liburcu-memb)
	add_library(memslots::urcu INTERFACE IMPORTED)
	set_target_properties(memslots::urcu PROPERTIES
		INTERFACE_INCLUDE_DIRECTORIES "${MEMSLOTS_URCU_PC_INCLUDE_DIRS}"
		INTERFACE_LINK_LIBRARIES "${MEMSLOTS_URCU_PC_LINK_LIBRARIES}")
endif()
