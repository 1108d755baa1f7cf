/* placeholder until the file commands land */
#include "tool.h"
int tool_files_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "dfukit: file commands are not built yet\n");
	return 70;
}
