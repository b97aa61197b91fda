################################################################################
#
# libtommath
#
################################################################################

LIBTOMMATH_VERSION = 1.3.0
LIBTOMMATH_SITE = https://sources.skiffbuild.invalid/libtommath
LIBTOMMATH_LICENSE = Unlicense
LIBTOMMATH_LICENSE_FILES = LICENSE

LIBTOMMATH_INSTALL_STAGING = YES

$(eval $(generic-package))
