################################################################################
#
# busybox
#
################################################################################

BUSYBOX_VERSION = 1.37.0
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
