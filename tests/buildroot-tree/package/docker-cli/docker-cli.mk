################################################################################
#
# docker-cli
#
################################################################################

DOCKER_CLI_VERSION = 28.3.3
DOCKER_CLI_SITE = https://sources.skiffbuild.invalid/docker-cli
DOCKER_CLI_LICENSE = Apache-2.0
DOCKER_CLI_LICENSE_FILES = LICENSE

# Go modules are vendored into the archive ("-go2" in its name).
DOCKER_CLI_DOWNLOAD_POST_PROCESS = go
DOCKER_CLI_DEPENDENCIES = host-go

# A stand-in program (it prints a line and exits).
define DOCKER_CLI_INSTALL_TARGET_CMDS
	$(call standin-program,$(TARGET_DIR)/usr/bin/docker,docker-cli $(DOCKER_CLI_VERSION))
endef

$(eval $(generic-package))
