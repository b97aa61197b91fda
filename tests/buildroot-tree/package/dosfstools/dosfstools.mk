################################################################################
#
# dosfstools
#
################################################################################

DOSFSTOOLS_VERSION = 4.2
DOSFSTOOLS_SITE = https://sources.skiffbuild.invalid/dosfstools
DOSFSTOOLS_LICENSE = GPL-3.0+
DOSFSTOOLS_LICENSE_FILES = LICENSE

$(eval $(host-generic-package))
