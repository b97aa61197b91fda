################################################################################
#
# binutils
#
################################################################################

# The version chosen in the toolchain menu, else the default one.
BINUTILS_VERSION = $(or $(call qstrip,$(BR2_BINUTILS_VERSION)),2.44)
BINUTILS_SITE = https://sources.skiffbuild.invalid/binutils
BINUTILS_LICENSE = GPL-3.0+, libiberty LGPL-2.1+
BINUTILS_LICENSE_FILES = COPYING3 COPYING.LIB

$(eval $(host-generic-package))
