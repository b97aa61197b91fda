################################################################################
#
# genimage
#
################################################################################

GENIMAGE_VERSION = 19
GENIMAGE_SITE = https://sources.skiffbuild.invalid/genimage
GENIMAGE_LICENSE = GPL-2.0
GENIMAGE_LICENSE_FILES = COPYING

# host/bin/genimage: the build machine's genimage.
define HOST_GENIMAGE_INSTALL_CMDS
	$(call host-tool-wrappers,bin/genimage)
endef

$(eval $(host-generic-package))
