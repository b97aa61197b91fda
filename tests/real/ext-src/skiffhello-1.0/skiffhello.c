/* skiffhello: the real-Buildroot tier's own package (tests/real/README.md).
 * Built from a tarball by the real/tiny layer's BR2_EXTERNAL tree; prints one
 * distinctive line so a boot transcript shows it was built and installed. */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;

	if (uname(&u) != 0)
		return 1;
	printf("skiffhello 1.0: built by Buildroot from a BR2_EXTERNAL package, running on %s\n",
	       u.machine);
	return 0;
}
