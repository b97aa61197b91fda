################################################################################
#
# yajl
#
################################################################################

YAJL_VERSION = 2.1.0
YAJL_SITE = https://sources.skiffbuild.invalid/yajl
YAJL_LICENSE = ISC
YAJL_LICENSE_FILES = COPYING

YAJL_INSTALL_STAGING = YES

$(eval $(generic-package))
