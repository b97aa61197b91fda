"""Disk images: reproducible partitions and disks, booting them under qemu, listing what a
filesystem image holds.
"""
