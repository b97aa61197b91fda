################################################################################
#
# fakeroot
#
################################################################################

FAKEROOT_VERSION = 1.37.1.2
FAKEROOT_SITE = https://sources.skiffbuild.invalid/fakeroot
FAKEROOT_LICENSE = GPL-3.0+
FAKEROOT_LICENSE_FILES = LICENSE

FAKEROOT_SOURCE = fakeroot_$(FAKEROOT_VERSION).orig.tar.gz

$(eval $(host-generic-package))
