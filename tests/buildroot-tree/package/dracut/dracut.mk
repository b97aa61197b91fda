################################################################################
#
# dracut
#
################################################################################

DRACUT_VERSION = 059
DRACUT_SITE = https://sources.skiffbuild.invalid/dracut
DRACUT_LICENSE = GPL-2.0
DRACUT_LICENSE_FILES = COPYING

HOST_DRACUT_DEPENDENCIES = host-kmod

$(eval $(host-generic-package))
