################################################################################
#
# gcc-initial
#
################################################################################

# The compiler that builds the C library.
GCC_INITIAL_VERSION = $(GCC_VERSION)
GCC_INITIAL_SITE = $(GCC_SITE)
GCC_INITIAL_SOURCE = $(GCC_SOURCE)
GCC_INITIAL_LICENSE = GPL-2.0, GPL-3.0, LGPL-2.1, LGPL-3.0
GCC_INITIAL_LICENSE_FILES = LICENSE

HOST_GCC_INITIAL_DL_SUBDIR = gcc
HOST_GCC_INITIAL_DEPENDENCIES = host-binutils

$(eval $(host-generic-package))
