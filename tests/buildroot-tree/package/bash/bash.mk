################################################################################
#
# bash
#
################################################################################

BASH_VERSION = 5.2.37
BASH_SITE = https://sources.skiffbuild.invalid/bash
BASH_LICENSE = GPL-3.0+
BASH_LICENSE_FILES = COPYING

BASH_DEPENDENCIES = ncurses readline

$(eval $(generic-package))
