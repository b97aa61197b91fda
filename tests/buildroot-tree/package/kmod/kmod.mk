################################################################################
#
# kmod
#
################################################################################

KMOD_VERSION = 33
KMOD_SITE = https://sources.skiffbuild.invalid/kmod
KMOD_LICENSE = LGPL-2.1+ (library)
KMOD_LICENSE_FILES = libkmod/COPYING

# Licence of the tools, with them (as Buildroot).
ifeq ($(BR2_PACKAGE_KMOD_TOOLS),y)
KMOD_LICENSE += , GPL-2.0+ (tools)
KMOD_LICENSE_FILES += COPYING
endif

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
