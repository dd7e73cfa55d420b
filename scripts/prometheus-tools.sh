#!/usr/bin/env bash
# Makes sure `promtool` and `prometheus` are on PATH, for the tests that compare cairn with
# Prometheus (`cairn dump` against `promtool tsdb dump`, imports through
# `promtool tsdb create-blocks-from openmetrics`), then prints their versions.
#
# As root, installs Debian's `prometheus` package (it ships both) when one is missing; as
# anyone else, fails with a note on what to run. Safe to run again: it does nothing when both
# are there. The expected outputs under testdata/promtool/ were made with Debian 12's
# promtool 2.42.0+ds (built with Go 1.19.8); another version may print some lines differently.
set -euo pipefail

missing() {
  local tool
  for tool in promtool prometheus; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

if missing; then
  if [ "$(id -u)" -ne 0 ]; then
    {
      echo
      echo "ERROR: promtool and prometheus must be on PATH, and installing them needs root."
      echo "       Run: sudo $0"
      echo "       (or: sudo apt-get install --no-install-recommends prometheus)"
      echo
    } >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends prometheus
  if missing; then
    echo "ERROR: installed the prometheus package, but promtool or prometheus is still not on PATH" >&2
    exit 1
  fi
fi

promtool --version 2>&1 | head -n 1
prometheus --version 2>&1 | head -n 1
