################################################################################
#
# squashfs
#
################################################################################

SQUASHFS_VERSION = 4.6.1
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
