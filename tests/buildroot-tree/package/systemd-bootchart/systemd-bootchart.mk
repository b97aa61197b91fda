################################################################################
#
# systemd-bootchart
#
################################################################################

SYSTEMD_BOOTCHART_VERSION = 233
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
