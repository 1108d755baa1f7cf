/* placeholder until the flashing CLI lands */
#include "tool.h"
int tool_flash_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "dfukit: flashing is not built yet\n");
	return 70;
}
