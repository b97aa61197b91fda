################################################################################
#
# jpeg-turbo
#
################################################################################

JPEG_TURBO_VERSION = 3.1.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
