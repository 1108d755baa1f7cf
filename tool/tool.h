/* dfukit, the command-line tool: a client of libdfukit only. */
#ifndef DFUKIT_TOOL_H
#define DFUKIT_TOOL_H

#include <stdio.h>

#include "dfukit/dfukit.h"

/* `dfukit suffix|prefix|pack|info|unpack ...`; argv[0] is the subcommand. */
int tool_files_main(int argc, char **argv);
/* The dfu-util compatible command line (everything else). */
int tool_flash_main(int argc, char **argv);

/* Writes s as a JSON string literal (with quotes) to f. */
void tool_json_string(FILE *f, const char *s);

#endif
