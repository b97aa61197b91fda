################################################################################
#
# mtools
#
################################################################################

MTOOLS_VERSION = 4.0.48
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
