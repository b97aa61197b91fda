################################################################################
#
# ncurses
#
################################################################################

NCURSES_VERSION = 6.5
NCURSES_SITE = https://sources.skiffbuild.invalid/ncurses
NCURSES_LICENSE = MIT with advertising clause
NCURSES_LICENSE_FILES = COPYING

NCURSES_INSTALL_STAGING = YES

$(eval $(generic-package))
