################################################################################
#
# dosfstools
#
################################################################################

DOSFSTOOLS_VERSION = 4.2
DOSFSTOOLS_SITE = https://sources.skiffbuild.invalid/dosfstools
DOSFSTOOLS_LICENSE = GPL-3.0+
DOSFSTOOLS_LICENSE_FILES = COPYING

# The build machine's dosfstools.
define HOST_DOSFSTOOLS_INSTALL_CMDS
	$(call host-tool-wrappers,sbin/mkfs.fat sbin/mkfs.vfat sbin/mkdosfs sbin/fsck.fat sbin/fatlabel)
endef

$(eval $(host-generic-package))
