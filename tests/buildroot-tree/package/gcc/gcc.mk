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

include $(sort $(wildcard package/gcc/*/*.mk))
