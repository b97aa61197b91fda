################################################################################
#
# gcc-final
#
################################################################################

# The final compiler (host) and its runtime libraries (target).
GCC_FINAL_VERSION = $(GCC_VERSION)
GCC_FINAL_SITE = $(GCC_SITE)
GCC_FINAL_SOURCE = $(GCC_SOURCE)
GCC_FINAL_DL_SUBDIR = gcc
GCC_FINAL_LICENSE = GPL-3.0-with-GCC-exception
GCC_FINAL_LICENSE_FILES = COPYING.RUNTIME
HOST_GCC_FINAL_LICENSE = $(HOST_GCC_LICENSE)
HOST_GCC_FINAL_LICENSE_FILES = $(HOST_GCC_LICENSE_FILES)

GCC_FINAL_DEPENDENCIES = host-gcc-final
GCC_FINAL_ADD_TOOLCHAIN_DEPENDENCY = NO
GCC_FINAL_INSTALL_STAGING = YES

HOST_GCC_FINAL_DEPENDENCIES = host-binutils \
	$(if $(BR2_TOOLCHAIN_BUILDROOT_GLIBC),glibc) \
	$(if $(BR2_TOOLCHAIN_BUILDROOT_MUSL),musl) \
	$(if $(BR2_TOOLCHAIN_BUILDROOT_UCLIBC),uclibc)

$(eval $(generic-package))
$(eval $(host-generic-package))
