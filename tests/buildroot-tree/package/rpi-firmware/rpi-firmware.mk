################################################################################
#
# rpi-firmware
#
################################################################################

RPI_FIRMWARE_VERSION = 063bcab6c8a90efb0d19f69d88cbbc7ec79cab68
# Download, hash and build steps: filled in by later work.

$(eval $(generic-package))
