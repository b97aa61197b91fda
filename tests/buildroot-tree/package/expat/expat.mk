################################################################################
#
# expat
#
################################################################################

EXPAT_VERSION = 2.8.1
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
