################################################################################
#
# dropbear
#
################################################################################

DROPBEAR_VERSION = 2026.91
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
