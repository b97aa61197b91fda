################################################################################
#
# fakedate
#
################################################################################

# No download: the script is in this directory. With BR2_REPRODUCIBLE
# every package depends on host-fakedate.

HOST_FAKEDATE_LICENSE = GPL-2.0+

# host/bin/date: the date of SOURCE_DATE_EPOCH when asked for the current
# time (with BR2_REPRODUCIBLE every package depends on host-fakedate); dates
# given with -d/--date, -r/--reference, -f/--file or -s/--set pass through.
define HOST_FAKEDATE_INSTALL_CMDS
	$(Q)install -D -m 0755 $(HOST_FAKEDATE_PKGDIR)/date $(HOST_DIR)/bin/date
endef

$(eval $(host-generic-package))
