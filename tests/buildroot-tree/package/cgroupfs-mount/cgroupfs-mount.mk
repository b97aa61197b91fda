################################################################################
#
# cgroupfs-mount
#
################################################################################

CGROUPFS_MOUNT_VERSION = 1.4
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
