/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* libdfukit: version of the headers (compile time) and of the library
 * (run time). The top CMakeLists.txt reads the project version from here. */
#ifndef DFUKIT_VERSION_H
#define DFUKIT_VERSION_H

#include "dfukit/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DFUKIT_VERSION_MAJOR 0
#define DFUKIT_VERSION_MINOR 1
#define DFUKIT_VERSION_PATCH 0
#define DFUKIT_VERSION "0.1.0"
/* 0xMMmmpp, for #if DFUKIT_VERSION_NUM >= 0x000200 */
#define DFUKIT_VERSION_NUM ((DFUKIT_VERSION_MAJOR << 16) | (DFUKIT_VERSION_MINOR << 8) | DFUKIT_VERSION_PATCH)

/* The version of the library actually loaded ("0.1.0"), which may be newer
 * than the headers a program was built with. */
DFK_API const char *dfk_version(void);
/* DFUKIT_VERSION_NUM of the loaded library. */
DFK_API unsigned dfk_version_num(void);

#ifdef __cplusplus
}
#endif
#endif
