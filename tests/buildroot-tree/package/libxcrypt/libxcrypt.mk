################################################################################
#
# libxcrypt
#
################################################################################

LIBXCRYPT_VERSION = 4.5.2
LIBXCRYPT_SITE = https://sources.skiffbuild.invalid/libxcrypt
LIBXCRYPT_LICENSE = LGPL-2.1+
LIBXCRYPT_LICENSE_FILES = LICENSING COPYING.LIB

LIBXCRYPT_INSTALL_STAGING = YES

$(eval $(generic-package))
