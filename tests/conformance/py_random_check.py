# What tests/examples/py_random_check.cpp must print: examples/support/py_random.hpp against
# CPython's random module (seed, getrandbits, randint).
import random

for seed in [444, 0, 1, -444, 2**32 - 1, 2**32, 2**40 + 5, 2**63 - 1, -(2**63)]:
    random.seed(seed)
    print(seed, [random.randint(0, 10) for _ in range(20)])
    print(" ", [random.randint(-5, 5) for _ in range(10)], random.randint(7, 7))
    print(" ", [random.getrandbits(k) for k in (0, 1, 31, 32, 33, 63, 64)])
    print(" ", [random.randint(0, 2**40) for _ in range(3)], random.randint(-2**62, 2**62))
