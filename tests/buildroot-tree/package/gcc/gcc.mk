################################################################################
#
# gcc
#
################################################################################

# Shared by gcc-initial and gcc-final (package/gcc/*/*.mk), which download
# the same archive into the same directory, $(DL_DIR)/gcc.
GCC_VERSION = $(or $(call qstrip,$(BR2_GCC_VERSION)),14.3.0)
GCC_SITE = https://sources.skiffbuild.invalid/gcc/gcc-$(GCC_VERSION)
GCC_SOURCE = gcc-$(GCC_VERSION).tar.gz
HOST_GCC_LICENSE = GPL-2.0, GPL-3.0, LGPL-2.1, LGPL-3.0
HOST_GCC_LICENSE_FILES = COPYING COPYING3 COPYING.LIB COPYING3.LIB

include $(sort $(wildcard package/gcc/*/*.mk))
