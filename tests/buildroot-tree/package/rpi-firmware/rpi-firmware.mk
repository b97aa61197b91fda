################################################################################
#
# rpi-firmware
#
################################################################################

RPI_FIRMWARE_VERSION = 063bcab6c8a90efb0d19f69d88cbbc7ec79cab68
RPI_FIRMWARE_SITE = $(call github,raspberrypi,firmware,$(RPI_FIRMWARE_VERSION))
RPI_FIRMWARE_LICENSE = BSD-3-Clause
RPI_FIRMWARE_LICENSE_FILES = boot/LICENCE.broadcom

RPI_FIRMWARE_INSTALL_IMAGES = YES

# Stand-in build: the files of the firmware's boot/ directory that
# Buildroot installs are written as small deterministic files
# (support/testing/stand-in-blob): the start*.elf/fixup*.dat of the chosen
# variants, the DT overlays (a few, with overlay_map.dtb) and firmware DTBs.
# The installation is Buildroot's: images/rpi-firmware/<file>, config.txt and
# cmdline.txt from BR2_PACKAGE_RPI_FIRMWARE_CONFIG_FILE / _CMDLINE_FILE,
# overlays/ with an empty README, the extra files.
RPI_FIRMWARE_FILES = \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_BOOTCODE_BIN), bootcode.bin) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI), start.elf fixup.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_X), start_x.elf fixup_x.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_CD), start_cd.elf fixup_cd.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_DB), start_db.elf fixup_db.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4), start4.elf fixup4.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_X), start4x.elf fixup4x.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_CD), start4cd.elf fixup4cd.dat) \
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_DB), start4db.elf fixup4db.dat)
RPI_FIRMWARE_ALL_FILES = bootcode.bin start.elf fixup.dat start_x.elf fixup_x.dat \
	start_cd.elf fixup_cd.dat start_db.elf fixup_db.dat start4.elf fixup4.dat \
	start4x.elf fixup4x.dat start4cd.elf fixup4cd.dat start4db.elf fixup4db.dat
RPI_FIRMWARE_OVERLAYS = disable-bt miniuart-bt vc4-kms-v3d vc4-kms-v3d-pi4
RPI_FIRMWARE_DTBS = bcm2710-rpi-3-b bcm2710-rpi-3-b-plus bcm2711-rpi-4-b bcm2711-rpi-400 \
	bcm2711-rpi-cm4 bcm2711-rpi-cm4s
RPI_FIRMWARE_BLOB = $(STANDIN_PYTHON) $(TOPDIR)/support/testing/stand-in-blob

define RPI_FIRMWARE_BUILD_CMDS
	$(Q)mkdir -p $(@D)/boot/overlays
	$(foreach f,$(RPI_FIRMWARE_ALL_FILES),\
		$(Q)$(RPI_FIRMWARE_BLOB) firmware $(f) rpi-firmware-$(RPI_FIRMWARE_VERSION) \
			> $(@D)/boot/$(f)$(sep))
	$(foreach o,$(RPI_FIRMWARE_OVERLAYS),\
		$(Q)$(RPI_FIRMWARE_BLOB) dtb $(o) overlay > $(@D)/boot/overlays/$(o).dtbo$(sep))
	$(Q)$(RPI_FIRMWARE_BLOB) dtb overlay_map > $(@D)/boot/overlays/overlay_map.dtb
	$(foreach d,$(RPI_FIRMWARE_DTBS),\
		$(Q)$(RPI_FIRMWARE_BLOB) dtb $(d) > $(@D)/boot/$(d).dtb$(sep))
endef

RPI_FIRMWARE_CONFIG_FILE = $(call qstrip,$(BR2_PACKAGE_RPI_FIRMWARE_CONFIG_FILE))
RPI_FIRMWARE_CMDLINE_FILE = $(call qstrip,$(BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE))
RPI_FIRMWARE_EXTRA_FILES = $(call qstrip,$(BR2_PACKAGE_RPI_FIRMWARE_EXTRA_FILES))

define RPI_FIRMWARE_INSTALL_IMAGES_CMDS
	$(foreach f,$(RPI_FIRMWARE_FILES),\
		$(Q)install -D -m 0644 $(@D)/boot/$(f) $(BINARIES_DIR)/rpi-firmware/$(f)$(sep))
	$(if $(RPI_FIRMWARE_CONFIG_FILE),\
		$(Q)install -D -m 0644 $(RPI_FIRMWARE_CONFIG_FILE) $(BINARIES_DIR)/rpi-firmware/config.txt)
	$(if $(RPI_FIRMWARE_CMDLINE_FILE),\
		$(Q)install -D -m 0644 $(RPI_FIRMWARE_CMDLINE_FILE) $(BINARIES_DIR)/rpi-firmware/cmdline.txt)
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_INSTALL_DTBS),$(foreach d,$(RPI_FIRMWARE_DTBS),\
		$(Q)install -D -m 0644 $(@D)/boot/$(d).dtb $(BINARIES_DIR)/rpi-firmware/$(d).dtb$(sep)))
	$(if $(BR2_PACKAGE_RPI_FIRMWARE_INSTALL_DTB_OVERLAYS),\
		$(foreach o,$(RPI_FIRMWARE_OVERLAYS),$(Q)install -D -m 0644 $(@D)/boot/overlays/$(o).dtbo \
			$(BINARIES_DIR)/rpi-firmware/overlays/$(o).dtbo$(sep))\
		$(Q)install -D -m 0644 $(@D)/boot/overlays/overlay_map.dtb \
			$(BINARIES_DIR)/rpi-firmware/overlays/overlay_map.dtb$(sep)\
		$(Q)touch $(BINARIES_DIR)/rpi-firmware/overlays/README)
	$(foreach f,$(RPI_FIRMWARE_EXTRA_FILES),\
		$(Q)install -D -m 0644 $(f) $(BINARIES_DIR)/rpi-firmware/$(notdir $(f))$(sep))
endef

$(eval $(generic-package))
