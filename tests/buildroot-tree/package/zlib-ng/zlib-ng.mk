################################################################################
#
# zlib-ng
#
################################################################################

ZLIB_NG_VERSION = 2.3.3
ZLIB_NG_SITE = https://sources.skiffbuild.invalid/zlib-ng
ZLIB_NG_LICENSE = Zlib
ZLIB_NG_LICENSE_FILES = LICENSE.md

ZLIB_NG_PROVIDES = zlib
ZLIB_NG_INSTALL_STAGING = YES

$(eval $(generic-package))
