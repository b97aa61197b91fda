################################################################################
#
# ncurses
#
################################################################################

NCURSES_VERSION = 6.5
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
