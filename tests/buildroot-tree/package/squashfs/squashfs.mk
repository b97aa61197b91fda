################################################################################
#
# squashfs
#
################################################################################

SQUASHFS_VERSION = 4.6.1
SQUASHFS_SITE = https://sources.skiffbuild.invalid/squashfs
SQUASHFS_LICENSE = GPL-2.0+
SQUASHFS_LICENSE_FILES = COPYING

HOST_SQUASHFS_DEPENDENCIES = host-xz

# The build machine's squashfs-tools.
define HOST_SQUASHFS_INSTALL_CMDS
	$(call host-tool-wrappers,bin/mksquashfs bin/unsquashfs)
endef

$(eval $(host-generic-package))
