################################################################################
#
# busybox
#
################################################################################

BUSYBOX_VERSION = 1.37.0
BUSYBOX_SITE = https://sources.skiffbuild.invalid/busybox
BUSYBOX_LICENSE = GPL-2.0, bzip2-1.0.4
BUSYBOX_LICENSE_FILES = LICENSE

# busybox installs its applets first: the full tools of these win.
BUSYBOX_DEPENDENCIES = \
	$(if $(BR2_PACKAGE_KMOD),kmod) \
	$(if $(BR2_PACKAGE_LIBXCRYPT),libxcrypt) \
	$(if $(BR2_PACKAGE_UTIL_LINUX),util-linux)

$(eval $(generic-package))
