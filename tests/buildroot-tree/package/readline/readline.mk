################################################################################
#
# readline
#
################################################################################

READLINE_VERSION = 8.3
READLINE_SITE = https://sources.skiffbuild.invalid/readline
READLINE_LICENSE = GPL-3.0+
READLINE_LICENSE_FILES = COPYING

READLINE_DEPENDENCIES = ncurses
READLINE_INSTALL_STAGING = YES

$(eval $(generic-package))
