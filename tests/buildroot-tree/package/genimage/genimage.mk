################################################################################
#
# genimage
#
################################################################################

GENIMAGE_VERSION = 19
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
