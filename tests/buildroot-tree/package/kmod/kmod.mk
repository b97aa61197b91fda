################################################################################
#
# kmod
#
################################################################################

KMOD_VERSION = 33
KMOD_SITE = https://sources.skiffbuild.invalid/kmod
KMOD_LICENSE = LGPL-2.1+ (library), GPL-2.0+ (tools)
KMOD_LICENSE_FILES = LICENSE

KMOD_INSTALL_STAGING = YES
KMOD_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_XZ),xz) \
	$(if $(BR2_PACKAGE_ZLIB),zlib)

# Target: nothing (BusyBox provides modprobe and friends; a stand-in here
# would hide them). Host: the build machine's kmod tools.
define HOST_KMOD_INSTALL_CMDS
	$(call host-tool-wrappers,bin/kmod sbin/depmod sbin/modinfo)
endef

$(eval $(generic-package))
$(eval $(host-generic-package))
