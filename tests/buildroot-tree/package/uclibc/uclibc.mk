################################################################################
#
# uclibc
#
################################################################################

UCLIBC_VERSION = 1.0.57
UCLIBC_SITE = https://sources.skiffbuild.invalid/uclibc
UCLIBC_LICENSE = LGPL-2.1+
UCLIBC_LICENSE_FILES = COPYING.LIB

UCLIBC_SOURCE = uClibc-ng-$(UCLIBC_VERSION).tar.gz
UCLIBC_DEPENDENCIES = linux-headers host-gcc-initial
UCLIBC_ADD_TOOLCHAIN_DEPENDENCY = NO
UCLIBC_INSTALL_STAGING = YES

$(eval $(generic-package))
