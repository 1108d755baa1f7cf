/* SPDX-License-Identifier: MIT */
/* Copyright (c) dfukit contributors */
/* dfukit: library result codes to exit statuses (sysexits.h values). */
#include "tool_exit.h"

enum {
	EXIT_USAGE = 64,      /* EX_USAGE */
	EXIT_DATAERR = 65,    /* EX_DATAERR */
	EXIT_NOINPUT = 66,    /* EX_NOINPUT */
	EXIT_SOFTWARE = 70,   /* EX_SOFTWARE */
	EXIT_CANTCREAT = 73,  /* EX_CANTCREAT */
	EXIT_IOERR = 74,      /* EX_IOERR */
	EXIT_PROTOCOL = 76,   /* EX_PROTOCOL */
	EXIT_CANCELLED = 130, /* as a shell reports SIGINT */
};

int tool_exit_status(dfk_code code)
{
	switch (code) {
	case DFK_OK: return 0;
	case DFK_ERR_USAGE:
	case DFK_ERR_UNSUPPORTED: return EXIT_USAGE;
	case DFK_ERR_DATA: return EXIT_DATAERR;
	case DFK_ERR_NOINPUT: return EXIT_NOINPUT;
	case DFK_ERR_SOFTWARE:
	case DFK_ERR_NOMEM: return EXIT_SOFTWARE;
	case DFK_ERR_CANTCREAT:
	case DFK_ERR_EXISTS: return EXIT_CANTCREAT;
	case DFK_ERR_IO:
	case DFK_ERR_TIMEOUT:
	case DFK_ERR_NODEV:
	case DFK_ERR_VERIFY:
	case DFK_ERR_AMBIGUOUS: return EXIT_IOERR;
	case DFK_ERR_PROTOCOL:
	case DFK_ERR_STALL: return EXIT_PROTOCOL;
	case DFK_ERR_CANCELLED: return EXIT_CANCELLED;
	}
	return EXIT_SOFTWARE;
}
