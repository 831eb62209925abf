#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: system packages, the virtual environment, the Kafka jars.
# Every step checks first and does nothing when it is already done, so `make run` and `make test`
# can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
DISTRO_PYTHON=/usr/bin/python3.11

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  # Installs Debian packages when missing; needs root (or sudo) and the Debian package registry.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]} from Debian packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Java 17+ runs the broker, Maven resolves its jars.
if ! have java; then apt_install openjdk-17-jre-headless; fi
if ! have mvn; then apt_install maven; fi

# `deploy/setup.sh test`: what only the tests need — a PostgreSQL server (multi-instance tests)
# and headless Chromium (the registration form's browser test).
if [ "${1:-}" = "test" ]; then
  apt_install postgresql chromium
fi

# The interpreter: Debian's CPython 3.11 unless PYTHON names another. Debian builds it with
# profile-guided and link-time optimisation; a default source build (pyenv's, say) has neither,
# and the services spent 15-25 % more CPU per registration on it (`make bench`, A/B).
if [ -z "${PYTHON:-}" ]; then
  if have apt-get; then apt_install python3.11 python3.11-venv || echo "setup: no python3.11 from apt"; fi
  if [ -x "$DISTRO_PYTHON" ]; then PYTHON=$DISTRO_PYTHON; else PYTHON=python3; fi
fi
interpreter=$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys.executable))')

# One virtual environment for the whole monorepo: made again when its interpreter is not the
# chosen one, reinstalled only when pyproject.toml changed.
if [ -f "$VENV/pyvenv.cfg" ] && ! grep -qx "executable = $interpreter" "$VENV/pyvenv.cfg"; then
  echo "setup: $VENV was made with another interpreter; making it again with $interpreter"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $interpreter"
  "$interpreter" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

# The Kafka broker's jars, from Maven Central into a cache outside git (instant when cached).
"$VENV/bin/python" -m deploy.kafka resolve >/dev/null
echo "setup: ready"
