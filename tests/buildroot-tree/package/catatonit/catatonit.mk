################################################################################
#
# catatonit
#
################################################################################

CATATONIT_VERSION = 0.2.1
CATATONIT_SITE = https://sources.skiffbuild.invalid/catatonit
CATATONIT_LICENSE = GPL-2.0+
CATATONIT_LICENSE_FILES = COPYING

# A stand-in program (it prints a line and exits).
define CATATONIT_INSTALL_TARGET_CMDS
	$(call standin-program,$(TARGET_DIR)/usr/bin/catatonit,catatonit $(CATATONIT_VERSION))
endef

$(eval $(generic-package))
