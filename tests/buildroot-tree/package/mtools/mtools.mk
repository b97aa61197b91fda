################################################################################
#
# mtools
#
################################################################################

MTOOLS_VERSION = 4.0.48
MTOOLS_SITE = https://sources.skiffbuild.invalid/mtools
MTOOLS_LICENSE = GPL-3.0+
MTOOLS_LICENSE_FILES = LICENSE

$(eval $(host-generic-package))
