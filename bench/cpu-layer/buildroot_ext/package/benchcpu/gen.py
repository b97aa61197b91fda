"""Print a C file of N chained functions (seeded by UNIT): gcc -O2 work, deterministic.

Usage: python3 gen.py UNIT [N]
"""
import sys

unit = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
print("#include <stdint.h>")
print(f"uint64_t u{unit}_f0(uint64_t x) {{ return x * 3u; }}")
for i in range(1, n):
    print(f"uint64_t u{unit}_f{i}(uint64_t x) {{ uint64_t a = x ^ {unit * 1000003 + i}u;"
          f" for (int k = 0; k < {8 + i % 16}; k++) {{ a = a * 6364136223846793005u + {i}u;"
          f" a ^= a >> {13 + i % 7}; if (a & {1 << (i % 20)}u) a += u{unit}_f{i - 1}(a >> 3); }}"
          f" return a; }}")
