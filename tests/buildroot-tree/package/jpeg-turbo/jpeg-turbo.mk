################################################################################
#
# jpeg-turbo
#
################################################################################

JPEG_TURBO_VERSION = 3.1.2
JPEG_TURBO_SITE = https://sources.skiffbuild.invalid/jpeg-turbo
JPEG_TURBO_LICENSE = IJG (libjpeg), BSD-3-Clause (TurboJPEG), Zlib (SIMD)
JPEG_TURBO_LICENSE_FILES = LICENSE.md README.ijg

JPEG_TURBO_PROVIDES = jpeg
JPEG_TURBO_INSTALL_STAGING = YES

$(eval $(generic-package))
