################################################################################
#
# libtomcrypt
#
################################################################################

LIBTOMCRYPT_VERSION = 1.18.2
LIBTOMCRYPT_SITE = https://sources.skiffbuild.invalid/libtomcrypt
LIBTOMCRYPT_LICENSE = WTFPL
LIBTOMCRYPT_LICENSE_FILES = LICENSE

LIBTOMCRYPT_DEPENDENCIES = libtommath
LIBTOMCRYPT_INSTALL_STAGING = YES

$(eval $(generic-package))
