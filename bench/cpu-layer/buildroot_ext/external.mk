include $(sort $(wildcard $(BR2_EXTERNAL_BENCH_CPU_PATH)/package/*/*.mk))
