################################################################################
#
# docker-engine
#
################################################################################

DOCKER_ENGINE_VERSION = 28.3.3
DOCKER_ENGINE_SITE = https://sources.skiffbuild.invalid/docker-engine
DOCKER_ENGINE_LICENSE = Apache-2.0
DOCKER_ENGINE_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
DOCKER_ENGINE_DOWNLOAD_POST_PROCESS = go
DOCKER_ENGINE_DEPENDENCIES = host-go $(if $(BR2_PACKAGE_LIBSECCOMP),libseccomp)

# Stand-in programs (they print a line and exit), systemd units, the docker
# group, and docker-init pointing to the chosen init (tini, catatonit).
DOCKER_ENGINE_INIT_NAME = $(call qstrip,$(BR2_PACKAGE_DOCKER_ENGINE_DOCKER_INIT_NAME))

define DOCKER_ENGINE_INSTALL_TARGET_CMDS
	$(foreach p,/usr/bin/dockerd /usr/bin/docker-proxy,\
		$(call standin-program,$(TARGET_DIR)$(p),docker-engine $(DOCKER_ENGINE_VERSION))$(sep))
	$(if $(DOCKER_ENGINE_INIT_NAME),$(Q)ln -snf $(DOCKER_ENGINE_INIT_NAME) $(TARGET_DIR)/usr/bin/docker-init)
endef

define DOCKER_ENGINE_INSTALL_INIT_SYSTEMD
	$(Q)install -D -m 0644 $(DOCKER_ENGINE_PKGDIR)/docker.service \
		$(TARGET_DIR)/usr/lib/systemd/system/docker.service
	$(Q)install -D -m 0644 $(DOCKER_ENGINE_PKGDIR)/docker.socket \
		$(TARGET_DIR)/usr/lib/systemd/system/docker.socket
endef

define DOCKER_ENGINE_USERS
	- - docker -1 * - - - Docker Application Container Group
endef

$(eval $(generic-package))
