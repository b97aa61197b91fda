include $(sort $(wildcard $(BR2_EXTERNAL_SKIFF_REAL_TINY_PATH)/package/*/*.mk))
