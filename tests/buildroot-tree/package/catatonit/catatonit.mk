################################################################################
#
# catatonit
#
################################################################################

CATATONIT_VERSION = 0.2.1
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
