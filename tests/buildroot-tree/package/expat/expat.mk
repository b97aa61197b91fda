################################################################################
#
# expat
#
################################################################################

EXPAT_VERSION = 2.8.1
EXPAT_SITE = https://sources.skiffbuild.invalid/expat
EXPAT_LICENSE = MIT
EXPAT_LICENSE_FILES = COPYING

EXPAT_INSTALL_STAGING = YES

$(eval $(generic-package))
