#!/bin/sh
# autogen.sh --- generate configure and Makefile.in from a fresh clone
set -e
cd "$(dirname "$0")"
autoreconf -fi
# automake installs test-driver itself; the TAP driver must be copied.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
