# SPDX-License-Identifier: GPL-2.0
#
# ext4 buffered I/O on iomap: patch series, KUnit suites under UML, coverage.
# 'make help' lists the targets; README.md explains the workflow.

H := harness
SHELL := /bin/bash
export KERNEL_SRC PATCH FORCE

.PHONY: all deps base tree export test test-x86 coverage presubmit check check-debug bench selftest help clean distclean

all: ## main job: deps, build/linux, build + run the suites with gcov, summary
	@rm -f build/phases.log
	@$(H)/phased.sh deps $(H)/deps.sh
	@$(H)/phased.sh tree $(H)/tree.sh --ensure
	@$(H)/kunit.sh; rc=$$?; $(H)/summary.sh; exit $$rc

deps: ## install missing build/test packages with apt
	@$(H)/deps.sh

base: ## fetch and verify the pinned base (or KERNEL_SRC=<dir|tarball>)
	@$(H)/base.sh

tree: ## materialize build/linux: base commit + one commit per patch
	@$(H)/tree.sh

export: ## write build/linux's commits back into patches/ and our files
	@$(H)/export.sh

test: ## build and run the suites in build/linux as it is (no deps, no tree update)
	@rm -f build/phases.log
	@$(H)/kunit.sh; rc=$$?; $(H)/summary.sh; exit $$rc

test-x86: ## build build/linux for x86_64 and run the suites under qemu (TCG), with e2fsck
	@rm -f build/phases.log
	@$(H)/kunit-x86.sh; rc=$$?; EXT4_KUNIT_ARCH=x86_64 $(H)/summary.sh; exit $$rc

coverage: ## lcov 2 differential report of the last run; per-patch table; PATCH=<n|name> lists unrun lines
	@$(H)/coverage.sh

presubmit: ## checkpatch --strict, build each patch in order, suites, per-patch table
	@$(H)/presubmit.sh

check: ## the test command: suites with coverage, per-patch table, harness self-tests, debug kernels, x86_64 leg
	@rm -f build/phases.log
	@$(H)/phased.sh deps $(H)/deps.sh
	@$(H)/phased.sh tree $(H)/tree.sh --ensure
	@$(H)/kunit.sh; rc=$$?; \
	 $(H)/phased.sh coverage $(H)/coverage.sh || rc=1; \
	 $(H)/phased.sh selftest $(H)/selftest.sh || rc=1; \
	 $(H)/check-debug.sh --no-times || rc=1; \
	 $(H)/kunit-x86.sh || rc=1; \
	 EXT4_KUNIT_ARCH=x86_64 $(H)/summary.sh --brief; \
	 $(H)/summary.sh; exit $$rc

check-debug: ## every suite on a lockdep and on a KASAN kernel; any kernel report fails
	@rm -f build/phases.log
	@$(H)/check-debug.sh; rc=$$?; exit $$rc

bench: ## fio in a UML guest: buffer_head against iomap, table, ratios and chart (build/bench)
	@$(H)/deps.sh bench
	@$(H)/tree.sh --ensure
	@$(H)/bench.sh

selftest: ## harness self-tests only (export round trip, error messages)
	@$(H)/selftest.sh

help: ## this list
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

clean: ## remove build outputs, keep build/linux and the caches
	rm -rf build/kunit build/kunit-* build/*.log build/*.json build/*.kunitconfig coverage

distclean: ## remove build/ (refuses if build/linux holds unexported work) and coverage/
	@$(H)/distclean.sh
