################################################################################
#
# runc
#
################################################################################

RUNC_VERSION = 1.3.5
RUNC_SITE = https://sources.skiffbuild.invalid/runc
RUNC_LICENSE = Apache-2.0, LGPL-2.1 (libseccomp)
RUNC_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
RUNC_DOWNLOAD_POST_PROCESS = go
RUNC_DEPENDENCIES = host-go $(if $(BR2_PACKAGE_LIBSECCOMP),libseccomp)

# A stand-in program (it prints a line and exits).
define RUNC_INSTALL_TARGET_CMDS
	$(call standin-program,$(TARGET_DIR)/usr/bin/runc,runc $(RUNC_VERSION))
endef

$(eval $(generic-package))
