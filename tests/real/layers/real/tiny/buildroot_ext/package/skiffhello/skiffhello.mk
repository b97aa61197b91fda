################################################################################
#
# skiffhello
#
################################################################################

SKIFFHELLO_VERSION = 1.0
SKIFFHELLO_SOURCE = skiffhello-$(SKIFFHELLO_VERSION).tar.gz
# Not published anywhere: tests/real/make-ext-tarball makes the tarball and the
# build gets it from the download cache (BR2_PRIMARY_SITE, or a mirror of this
# URL). It still goes through Buildroot's download and hash check.
SKIFFHELLO_SITE = https://skiffbuild.invalid/real-tier
SKIFFHELLO_LICENSE = 0BSD
SKIFFHELLO_LICENSE_FILES = LICENSE

define SKIFFHELLO_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(TARGET_CONFIGURE_OPTS)
endef

define SKIFFHELLO_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) $(TARGET_CONFIGURE_OPTS) \
		DESTDIR=$(TARGET_DIR) PREFIX=/usr install
endef

$(eval $(generic-package))
