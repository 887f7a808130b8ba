// pv-xconnect's entry point; everything else links into the unit tests.

#include "xconnect.h"

int main(int argc, char **argv)
{
	return pvx_main(argc, argv);
}
