################################################################################
#
# libjpeg
#
################################################################################

LIBJPEG_VERSION = 9f
LIBJPEG_SITE = https://sources.skiffbuild.invalid/libjpeg
LIBJPEG_LICENSE = IJG
LIBJPEG_LICENSE_FILES = README

LIBJPEG_PROVIDES = jpeg
LIBJPEG_INSTALL_STAGING = YES

$(eval $(generic-package))
