################################################################################
#
# uclibc
#
################################################################################

UCLIBC_VERSION = 1.0.57
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
