################################################################################
#
# genimage
#
################################################################################

GENIMAGE_VERSION = 19
GENIMAGE_SITE = https://sources.skiffbuild.invalid/genimage
GENIMAGE_LICENSE = GPL-2.0
GENIMAGE_LICENSE_FILES = LICENSE

$(eval $(host-generic-package))
