/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: DFK_API marks the functions the shared library exports; the
 * library is built with hidden visibility, so nothing else leaks out. */
#ifndef DFUKIT_EXPORT_H
#define DFUKIT_EXPORT_H

#if defined(__GNUC__) && defined(DFUKIT_BUILDING)
#define DFK_API __attribute__((visibility("default")))
#else
#define DFK_API
#endif

#endif
