# linkops.cluster_linking: developer and demo entry points.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COLL_LINK := .collections/ansible_collections/linkops/cluster_linking
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(CURDIR)/build/linkops-cluster_linking-$(VERSION).tar.gz
# make smoke's legs (tests/artifact/smoke.sh): controller Python and ansible-core
SMOKE_LEGS ?= core2.19.0 newest-py3.11 newest-py3.13
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv venv-timed system-deps pytest lab-fetch browser demo test unit integration molecule sanity lint artifact smoke checks-artifact checks-tree bench bench-fleet soak lab-up lab-down lab-status clean jump-host-deps

venv: $(STAMP) $(COLL_LINK) $(VENV)/bin/kafka-mirrors

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The lab's CP tools (kafka-cluster-links, kafka-mirrors, kafka-configs; docs/lab.md "CP tools").
$(VENV)/bin/kafka-mirrors: $(STAMP) tests/lab/linkops_lab/cptools/install.py
	$(VPY) tests/lab/labctl.py install-tools

# Ansible finds the collection through this link (see ansible.cfg collections_path).
$(COLL_LINK):
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn ../../.. $(COLL_LINK)

## demo: start the lab, run playbooks/migrate.yml against it, print the proof, stop the lab
demo: venv
	$(VPY) tests/lab/labctl.py up
	set -o pipefail; status=0; \
	  $(VENV)/bin/ansible-playbook -i playbooks/inventories/lab tests/lab/demo.yml || status=$$?; \
	  $(VPY) tests/lab/labctl.py down; exit $$status

lab-fetch: venv
	$(VPY) tests/lab/labctl.py fetch >/dev/null

lab-up: venv
	$(VPY) tests/lab/labctl.py up

lab-down:
	$(VPY) tests/lab/labctl.py down

lab-status:
	$(VPY) tests/lab/labctl.py status

# Headless Chromium for the report's browser test (tests/integration/test_report_browser.py); CI runs on a
# fresh Debian machine as root, so it is installed here when missing (skipped when present).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## jump-host-deps: Debian's openssh-server for the lab's SSH jump host (test_jump_host_ssh.py); skipped when sshd is there
jump-host-deps:
	@if command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing openssh-server (the lab's SSH jump host)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y --no-install-recommends openssh-server >/dev/null \
	    || { $$sudo apt-get update >/dev/null && $$sudo apt-get install -y --no-install-recommends openssh-server >/dev/null; }; \
	else echo "no sshd and no apt-get: install OpenSSH's server (sshd) for the SSH jump-host test" >&2; exit 1; fi

## test: unit, lab and integration tests (report.html in headless Chromium too), the artifact (importer, installed-tarball smoke, sanity), molecule, ansible-lint
# Each step prints "== make <step>: N s" when it ends (make test's own timings).
timed = start=$$(date +%s); status=0; $(MAKE) --no-print-directory $(1) || status=$$?; \
	echo "== make $(firstword $(1)): $$(( $$(date +%s) - start )) s (exit $$status)"; exit $$status

test:
	$(MAKE) --no-print-directory -j2 --output-sync=recurse venv-timed system-deps
	@$(call timed,pytest)
	@$(call timed,artifact)
	$(MAKE) --no-print-directory -j2 --output-sync=recurse checks-artifact checks-tree ARTIFACT=$(TARBALL)

# make test's first steps side by side: the venv (PyPI) then the lab's Apache Kafka jars (Maven Central,
# once per machine; without Java the apache-kafka tests say why they skip), and the system packages
# (Debian; one apt at a time)
venv-timed:
	@$(call timed,venv)
	-@$(call timed,lab-fetch)
system-deps:
	@$(call timed,browser)
	@$(call timed,jump-host-deps)

pytest: venv
	$(VPY) -m pytest -n $${PYTEST_WORKERS:-4} --dist loadfile --durations=40 tests

# make test's checks after pytest, in two lanes on two cores (each one single-threaded; a lane's output
# is printed when it ends): the built tarball (two smoke legs, then sanity), and the tree (ansible-lint,
# then molecule: one after the other, as both prepare ansible-compat's cache; then the last smoke leg)
checks-artifact: venv
	@$(call timed,smoke ARTIFACT=$(ARTIFACT) SMOKE_LEGS="$(wordlist 1,2,$(SMOKE_LEGS))")
	@$(call timed,sanity ARTIFACT=$(ARTIFACT))
checks-tree: venv
	@$(call timed,lint)
	@$(call timed,molecule)
	$(if $(word 3,$(SMOKE_LEGS)),@$(call timed,smoke ARTIFACT=$(ARTIFACT) SMOKE_LEGS="$(wordlist 3,$(words $(SMOKE_LEGS)),$(SMOKE_LEGS))"))

unit: venv
	$(VPY) -m pytest tests/unit

integration: venv browser jump-host-deps
	$(VPY) -m pytest tests/integration

## molecule: the molecule scenario (driver default, no containers): lab up, migrate.yml, idempotence, verify, lab down
molecule: venv
	$(VENV)/bin/molecule test

## artifact: build the tarball into build/ and import it with galaxy-importer (local mode): 0 errors, 0 warnings
artifact: venv
	bash tests/artifact/build.sh

## smoke: the tarball installed in fresh venvs (only ansible-core + confluent-kafka): ansible-doc, migrate.yml on a lab
smoke: venv
	TARBALL=$(ARTIFACT) bash tests/artifact/smoke.sh $(SMOKE_LEGS)

## sanity: ansible-test sanity on the unpacked tarball (the one make artifact built, under make test)
sanity: venv
	TARBALL=$(ARTIFACT) bash tests/sanity/run.sh

# The example inventories' vaults are linted too: their password is public (docs/fleet.md).
lint: venv
	set -o pipefail; pass=$$(mktemp); echo linkops-example > $$pass; status=0; \
	  ANSIBLE_VAULT_PASSWORD_FILE=$$pass $(VENV)/bin/ansible-lint || status=$$?; rm -f $$pass; exit $$status

## bench: REST requests and wall time of mirror_topic on a link with many mirrors (BENCH_MIRRORS=200)
bench: venv
	$(VPY) tests/bench/bench_mirror_topic.py --mirrors $${BENCH_MIRRORS:-200}

## bench-fleet: the fleet benchmark (docs/fleet.md "Measured at fleet size"): make bench-fleet FLEET=20x500 (or make bench-fleet 20x500; default 3x50); BENCH_FLEET_ARGS for more options
FLEET ?= 3x50
ifeq (bench-fleet,$(firstword $(MAKECMDGOALS)))
  ifneq ($(word 2,$(MAKECMDGOALS)),)
    FLEET := $(word 2,$(MAKECMDGOALS))
    $(eval $(FLEET):;@:)
  endif
endif
bench-fleet: venv
	$(VPY) tests/bench/bench_fleet.py --fleet $(FLEET) $(BENCH_FLEET_ARGS)

## soak: migrate.yml SOAK_RUNS (20) times per REST fault mode (503/429/drops; answers lost after the write); how many converge on their first run
soak: venv
	$(VPY) tests/bench/bench_write_faults.py --runs $${SOAK_RUNS:-20}

clean:
	-$(VPY) tests/lab/labctl.py down
	rm -rf $(VENV) .smoke-venv-* .collections build tests/output .pytest_cache
