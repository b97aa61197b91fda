################################################################################
#
# systemd-bootchart
#
################################################################################

SYSTEMD_BOOTCHART_VERSION = 233
SYSTEMD_BOOTCHART_SITE = https://sources.skiffbuild.invalid/systemd-bootchart
SYSTEMD_BOOTCHART_LICENSE = LGPL-2.1+
SYSTEMD_BOOTCHART_LICENSE_FILES = LICENSE.LGPL2.1

# Deliberately without a .hash file (see README.md): Buildroot downloads
# such a file with a warning, skiffbuild must refuse it.
SYSTEMD_BOOTCHART_DEPENDENCIES = systemd

$(eval $(generic-package))
