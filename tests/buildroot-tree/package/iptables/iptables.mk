################################################################################
#
# iptables
#
################################################################################

IPTABLES_VERSION = 1.8.11
IPTABLES_SITE = https://sources.skiffbuild.invalid/iptables
IPTABLES_LICENSE = GPL-2.0
IPTABLES_LICENSE_FILES = COPYING

IPTABLES_INSTALL_STAGING = YES

$(eval $(generic-package))
