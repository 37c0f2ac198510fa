# SPDX-License-Identifier: MIT
# The ABI of libmemslots.so: its SONAME, its symbol versions and the
# compatibility entry points that only the shared library has.  What may
# change and how is docs/abi.md; scripts/test.d/abi.sh checks it against
# abi/<SONAME>.abi.

# The SONAME's number: bumped on an incompatible change only, with a new
# baseline (scripts/abi-baseline.sh) in the same change.  It is not the
# project's major version: 0.x releases keep libmemslots.so.0.
set(MEMSLOTS_SOVERSION 0)
set_target_properties(memslots PROPERTIES
	VERSION ${PROJECT_VERSION}
	SOVERSION ${MEMSLOTS_SOVERSION})

set(MEMSLOTS_VERSION_SCRIPT ${PROJECT_SOURCE_DIR}/src/libmemslots.map)
target_sources(memslots PRIVATE ${PROJECT_SOURCE_DIR}/src/compat/abi_v0_1.c
	${PROJECT_SOURCE_DIR}/src/compat/abi_v0_2.c)
target_link_options(memslots PRIVATE -Wl,--version-script=${MEMSLOTS_VERSION_SCRIPT})
set_property(TARGET memslots APPEND PROPERTY LINK_DEPENDS ${MEMSLOTS_VERSION_SCRIPT})
set_target_properties(memslots PROPERTIES C_VISIBILITY_PRESET hidden)
