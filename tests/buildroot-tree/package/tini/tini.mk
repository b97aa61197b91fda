################################################################################
#
# tini
#
################################################################################

TINI_VERSION = 0.19.0
TINI_SITE = https://sources.skiffbuild.invalid/tini
TINI_LICENSE = MIT
TINI_LICENSE_FILES = LICENSE

# A stand-in program (it prints a line and exits).
define TINI_INSTALL_TARGET_CMDS
	$(call standin-program,$(TARGET_DIR)/usr/bin/tini,tini $(TINI_VERSION))
endef

$(eval $(generic-package))
