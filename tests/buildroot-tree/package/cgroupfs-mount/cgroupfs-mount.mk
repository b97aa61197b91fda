################################################################################
#
# cgroupfs-mount
#
################################################################################

CGROUPFS_MOUNT_VERSION = 1.4
CGROUPFS_MOUNT_SITE = https://sources.skiffbuild.invalid/cgroupfs-mount
CGROUPFS_MOUNT_LICENSE = GPL-3.0+
CGROUPFS_MOUNT_LICENSE_FILES = debian/copyright

$(eval $(generic-package))
