/* placeholder until the emulator lands */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "dfukit-emu: not built yet\n");
	return 70;
}
