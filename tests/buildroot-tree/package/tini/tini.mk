################################################################################
#
# tini
#
################################################################################

TINI_VERSION = 0.19.0
TINI_SITE = https://sources.skiffbuild.invalid/tini
TINI_LICENSE = MIT
TINI_LICENSE_FILES = LICENSE

$(eval $(generic-package))
