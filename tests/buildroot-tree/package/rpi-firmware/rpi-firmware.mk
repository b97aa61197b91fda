################################################################################
#
# rpi-firmware
#
################################################################################

RPI_FIRMWARE_VERSION = 063bcab6c8a90efb0d19f69d88cbbc7ec79cab68
RPI_FIRMWARE_SITE = $(call github,raspberrypi,firmware,$(RPI_FIRMWARE_VERSION))
RPI_FIRMWARE_LICENSE = BSD-3-Clause
RPI_FIRMWARE_LICENSE_FILES = LICENSE

RPI_FIRMWARE_INSTALL_IMAGES = YES

$(eval $(generic-package))
