#!/bin/sh
# Install LibreOffice Calc for the template round-trip tests (tests/test_template.py).
# Quietly does nothing when soffice is already there or apt-get is not available.
set -e
if command -v soffice >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi
$SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends libreoffice-calc
