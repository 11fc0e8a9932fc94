#!/bin/sh
# Runs a test program with AIO_BACKEND=io_uring, or exits 77 (CTest: skipped) when this kernel
# or sandbox does not allow io_uring at all (io_uring_setup fails).
if ! python3 -c 'import ctypes, sys
r = ctypes.CDLL(None, use_errno=True).syscall(425, 4, ctypes.create_string_buffer(120))
sys.exit(0 if r >= 0 else 1)' 2>/dev/null; then
  echo "io_uring is not available here (io_uring_setup failed): not run on io_uring"
  exit 77
fi
AIO_BACKEND=io_uring exec "$@"
