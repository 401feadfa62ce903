# Two entry points: `make cluster` (three local hosts, the cluster, a job on it)
# and `make test` (everything CI runs). Both install what they need.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := podman runc netavark aardvark-dns iptables debootstrap gnupg gpgv unzip zip python3-venv shellcheck openssh-client golang-go dpkg-dev
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: deps apt venv test unit compat integration artifact sanity lint molecule molecule-all cluster cluster-down bench clean

deps: apt venv

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

test: deps unit compat integration artifact sanity lint molecule

unit: venv
	$(BIN)/pytest -q tests/unit

# The oldest ansible-core meta/runtime.yml claims (2.15.13 is the line's last
# release): the unit tests and the import sanity test in a venv of its own,
# rebuilt from scratch only when its requirements change (the stamp's name
# holds the pin); the rest comes from requirements*.txt, with the same floors.
# The venv lives under .cache/, which git, yamllint, ansible-lint and
# `make clean` already handle.
COMPAT_VENV := .cache/venv-compat
COMPAT_BIN := $(COMPAT_VENV)/bin
COMPAT_ANSIBLE_CORE := 2.15.13

$(COMPAT_VENV)/.installed-$(COMPAT_ANSIBLE_CORE): requirements.txt requirements-dev.txt
	rm -rf $(COMPAT_VENV)
	python3 -m venv $(COMPAT_VENV)
	$(COMPAT_BIN)/pip install -q --disable-pip-version-check -r requirements.txt \
	  ansible-core==$(COMPAT_ANSIBLE_CORE) $$(grep -E '^(pytest|pyhcl)[<>=!~]' requirements-dev.txt)
	touch $@

compat: $(COMPAT_VENV)/.installed-$(COMPAT_ANSIBLE_CORE)
	$(COMPAT_BIN)/pytest -q tests/unit
	PATH="$(abspath $(COMPAT_BIN)):$$PATH" tests/sanity.sh --test import plugins/modules/ plugins/module_utils/

# The integration tests spend most of their time waiting for agents, so four
# workers share two cores well (10 minutes become 4). Each file keeps to one
# worker: its tests share a cluster and follow one another's jobs.
integration: deps
	$(BIN)/pytest -q -n 4 --dist loadfile tests/integration

# The tarball users get: built, installed into an empty collections path,
# and used from outside the checkout (ansible-doc of everything, a playbook
# against the test double); see tests/artifact/check.py.
artifact: venv
	$(BIN)/python tests/artifact/check.py

sanity: venv
	tests/sanity.sh

lint: venv
	$(BIN)/ansible-lint
	$(BIN)/yamllint .

# CI must finish within 40 minutes on two cores, and every scenario builds
# three hosts and converges them at least twice. `rolling` (about 8 minutes:
# five minutes of polling through a rolling restart), `replace` (four hosts,
# a server lost for good and replaced; about 5 minutes), `nomad1x` (1.1.0
# with Docker on the hosts; `nomad16` covers 1.x on the hosts in CI, and the
# integration tests 1.1.0's API) and `hosts` (the podman hosts alone, which
# `default` exercises anyway) run with `make molecule-all`.
SCENARIOS ?= default cloned secure docker nomad16 upgrade secure_running
ALL_SCENARIOS := default cloned rolling secure docker nomad1x nomad16 upgrade secure_running replace hosts

molecule: deps
	set -e; for s in $(SCENARIOS); do tests/hosts/molecule.sh test -s $$s; done

molecule-all: deps
	$(MAKE) molecule SCENARIOS="$(ALL_SCENARIOS)"

cluster: deps
	tests/hosts/cluster.sh up

cluster-down:
	tests/hosts/cluster.sh down

bench: deps
	for b in bench/*.py; do $(BIN)/python $$b; done

clean:
	@# podman's overlay mounts must go before its storage under .cache does.
	if [ -d .cache/podman ]; then . tests/hosts/env.sh && podman system reset -f; fi
	rm -rf $(VENV) .cache tests/output
