################################################################################
#
# libjpeg
#
################################################################################

LIBJPEG_VERSION = 9f
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
