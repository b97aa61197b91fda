################################################################################
#
# tzdata
#
################################################################################

TZDATA_VERSION = 2026b
TZDATA_SITE = https://sources.skiffbuild.invalid/tzdata
TZDATA_LICENSE = Public domain
TZDATA_LICENSE_FILES = LICENSE

TZDATA_SOURCE = tzdata$(TZDATA_VERSION).tar.gz

$(eval $(generic-package))
