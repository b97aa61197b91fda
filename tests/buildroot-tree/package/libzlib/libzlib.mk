################################################################################
#
# libzlib
#
################################################################################

LIBZLIB_VERSION = 1.3.2
LIBZLIB_SOURCE = zlib-$(LIBZLIB_VERSION).tar.gz
LIBZLIB_SITE = https://sources.skiffbuild.invalid/libzlib
LIBZLIB_LICENSE = Zlib
LIBZLIB_LICENSE_FILES = LICENSE

LIBZLIB_PROVIDES = zlib
LIBZLIB_INSTALL_STAGING = YES

$(eval $(generic-package))
$(eval $(host-generic-package))
