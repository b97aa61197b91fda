################################################################################
#
# dracut
#
################################################################################

DRACUT_VERSION = 059
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
