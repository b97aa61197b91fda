################################################################################
#
# libtommath
#
################################################################################

LIBTOMMATH_VERSION = 1.3.0
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
