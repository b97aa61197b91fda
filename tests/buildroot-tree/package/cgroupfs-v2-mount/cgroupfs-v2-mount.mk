################################################################################
#
# cgroupfs-v2-mount
#
################################################################################

# No download: the script is in this directory.

CGROUPFS_V2_MOUNT_LICENSE = MIT

$(eval $(generic-package))
