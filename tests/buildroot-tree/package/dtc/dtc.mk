################################################################################
#
# dtc
#
################################################################################

DTC_VERSION = 1.7.2
DTC_SITE = https://sources.skiffbuild.invalid/dtc
DTC_LICENSE = GPL-2.0+ or BSD-2-Clause
DTC_LICENSE_FILES = LICENSE

$(eval $(host-generic-package))
