/* SPDX-License-Identifier: MIT */
/**
 * @file export.h
 * @brief The one export macro of libmemslots.
 *
 * The library is built with -fvisibility=hidden; only declarations marked
 * MEMSLOTS_API are exported from libmemslots.so.
 */
#ifndef MEMSLOTS_EXPORT_H
#define MEMSLOTS_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define MEMSLOTS_API __attribute__((visibility("default")))
#else
#define MEMSLOTS_API
#endif

#endif /* MEMSLOTS_EXPORT_H */
