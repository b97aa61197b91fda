################################################################################
#
# htop
#
################################################################################

HTOP_VERSION = 3.4.1
HTOP_SITE = https://sources.skiffbuild.invalid/htop
HTOP_LICENSE = GPL-2.0+
HTOP_LICENSE_FILES = COPYING

HTOP_DEPENDENCIES = ncurses

$(eval $(generic-package))
