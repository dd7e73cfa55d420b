#!/usr/bin/env bash
# cairn's test command: everything a fresh machine needs to pass the tests, then the tests.
#
# The conformance suites are read from ../shared/conformance (or $CAIRN_SHARED/conformance);
# where that folder is absent, the tests that need it print SKIP and check nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d "${CAIRN_SHARED:-../shared}/conformance" ]; then
  echo "WARNING: ${CAIRN_SHARED:-../shared}/conformance is absent: conformance tests will SKIP" >&2
fi

# The differential tests compare cairn with real Prometheus tools (Debian's `prometheus`
# package: promtool, prometheus). Installed here when running as root; otherwise those tests
# SKIP loudly, and fail when CI is set.
if ! scripts/prometheus-tools.sh; then
  if [ -n "${CI:-}" ]; then
    echo "ERROR: CI needs promtool and prometheus (see above)" >&2
    exit 1
  fi
  echo "WARNING: promtool/prometheus missing: the tests comparing with Prometheus will SKIP" >&2
fi

cargo test --workspace --locked
# The benches are run by hand (see benches/README.md), but they must always build.
cargo bench --workspace --locked --no-run
