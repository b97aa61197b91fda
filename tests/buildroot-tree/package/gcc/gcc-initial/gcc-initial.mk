################################################################################
#
# gcc-initial
#
################################################################################

# The compiler that builds the C library.
GCC_INITIAL_VERSION = $(GCC_VERSION)
GCC_INITIAL_SITE = $(GCC_SITE)
GCC_INITIAL_SOURCE = $(GCC_SOURCE)
HOST_GCC_INITIAL_LICENSE = $(HOST_GCC_LICENSE)
HOST_GCC_INITIAL_LICENSE_FILES = $(HOST_GCC_LICENSE_FILES)

HOST_GCC_INITIAL_DL_SUBDIR = gcc
HOST_GCC_INITIAL_DEPENDENCIES = host-binutils

$(eval $(host-generic-package))
