################################################################################
#
# systemd
#
################################################################################

SYSTEMD_VERSION = 258.7
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
$(eval $(host-generic-package))
