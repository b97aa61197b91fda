################################################################################
#
# catatonit
#
################################################################################

CATATONIT_VERSION = 0.2.1
CATATONIT_SITE = https://sources.skiffbuild.invalid/catatonit
CATATONIT_LICENSE = GPL-2.0+
CATATONIT_LICENSE_FILES = LICENSE

$(eval $(generic-package))
