################################################################################
#
# mtools
#
################################################################################

MTOOLS_VERSION = 4.0.48
MTOOLS_SITE = https://sources.skiffbuild.invalid/mtools
MTOOLS_LICENSE = GPL-3.0+
MTOOLS_LICENSE_FILES = COPYING

# The build machine's mtools.
define HOST_MTOOLS_INSTALL_CMDS
	$(call host-tool-wrappers,bin/mtools bin/mcopy bin/mmd bin/mdir bin/mformat bin/mlabel bin/mattrib)
endef

$(eval $(host-generic-package))
