/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
#include "dfukit/version.h"

const char *dfk_version(void)
{
	return DFUKIT_VERSION;
}

unsigned dfk_version_num(void)
{
	return DFUKIT_VERSION_NUM;
}
