################################################################################
#
# toolchain-buildroot
#
################################################################################

# Virtual: the toolchain Buildroot builds (gcc-final pulls in binutils, the
# C library and the kernel headers).
TOOLCHAIN_BUILDROOT_DEPENDENCIES = gcc-final
TOOLCHAIN_BUILDROOT_ADD_TOOLCHAIN_DEPENDENCY = NO

$(eval $(virtual-package))
