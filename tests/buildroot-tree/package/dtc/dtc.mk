################################################################################
#
# dtc
#
################################################################################

DTC_VERSION = 1.7.2
# Download, hash and build steps: filled in by later work.

$(eval $(host-generic-package))
