#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# phased.sh NAME CMD...: run CMD and record how long phase NAME took.
. "$(dirname "$0")/lib.sh"
phase "$@"
