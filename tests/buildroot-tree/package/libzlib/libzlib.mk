################################################################################
#
# libzlib
#
################################################################################

LIBZLIB_VERSION = 1.3.2
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
