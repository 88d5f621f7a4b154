# kubebin.cluster — the two commands that matter:
#   make lab    bring up the local lab and run site.yml on it (twice: the 2nd must change nothing)
#   make test   everything CI runs: lint, sanity, unit tests, every molecule scenario
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
LAB       := tools/lab/lab.sh
STATE     := .state
REPORTS   := $(STATE)/reports
VERSION   := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL   := build/kubebin-cluster-$(VERSION).tar.gz
SANITY    := $(STATE)/sanity/ansible_collections/kubebin/cluster
SCENARIOS := $(patsubst extensions/molecule/%/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))
SYSTEM_PACKAGES := docker.io debootstrap iptables
# Offline artifact mirror (a directory with SHA256SUMS, or an http(s) base URL). Unset: the
# official upstream URLs. CI and the lab use the project's offline mirror next to the checkout.
export KUBEBIN_ARTIFACTS_MIRROR ?= $(wildcard $(abspath ../shared/artifacts))

.PHONY: help system-deps venv lab lab-destroy lab-status test reports-reset lint yamllint ansible-lint ruff \
        sanity unit kv-current bench molecule $(addprefix molecule-,$(SCENARIOS)) build install-check \
        clean

help:
	@echo "make lab          create the lab hosts and run site.yml on them (twice)"
	@echo "make lab-destroy  remove the lab hosts (and the docker daemon the lab started)"
	@echo "make test         lint + sanity + unit + every molecule scenario (what CI runs)"
	@echo "make lint | unit | molecule | molecule-<scenario> | build | install-check | bench"

# Debian packages the lab needs: docker's daemon and debootstrap (root; apt only if missing).
system-deps:
	@missing=""; \
	command -v dockerd >/dev/null || missing="$$missing docker.io"; \
	command -v debootstrap >/dev/null || missing="$$missing debootstrap"; \
	command -v iptables >/dev/null || missing="$$missing iptables"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

lab: system-deps venv
	@start=$$(date +%s); \
	$(LAB) up; \
	$(LAB) exec tools/lab/converge.sh inventories/lab; \
	echo; echo "lab ready in $$(( $$(date +%s) - start ))s. Hosts:"; \
	$(LAB) status; \
	echo; \
	echo "Reach a host:   $$($(LAB) docker-env) && docker exec -it lab-master1 bash"; \
	echo "Run a playbook: $$($(LAB) docker-env) && ansible-playbook site.yml -i inventories/lab"; \
	echo "kubectl:        $$($(LAB) docker-env) && docker exec lab-master1 kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes"; \
	echo "   (or here:    $$(ls -d ~/.cache/kubebin/artifacts/kubernetes/*/kubernetes/server/bin/kubectl 2>/dev/null | tail -1 || echo kubectl) --kubeconfig inventories/lab/.kube/admin.conf get nodes)"; \
	echo "Tear down:      make lab-destroy"

lab-destroy:
	$(LAB) destroy

lab-status:
	$(LAB) status

test: reports-reset lint unit molecule
	@$(PY) tools/ci/summary.py $(REPORTS)

reports-reset:
	rm -rf $(REPORTS)

lint: yamllint ansible-lint ruff sanity

yamllint: venv
	yamllint --strict .

ansible-lint: venv
	ansible-lint --profile production --strict

ruff: venv
	ruff check .
	ruff format --check .

build: venv $(TARBALL)
$(TARBALL): galaxy.yml $(shell git ls-files 2>/dev/null)
	mkdir -p build
	ansible-galaxy collection build --force --output-path build .

# ansible-test must run inside ansible_collections/<ns>/<name>: unpack the built tarball there
# (a throwaway git repo, so ansible-test sees exactly the shipped files). Its pip bootstrap
# script lives on a host these machines cannot reach: tools/sanity/get_pip.py stands in.
ANSIBLE_TEST_PIP = $(shell sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" \
  $(VENV)/lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py 2>/dev/null)
GET_PIP_CACHE = $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py
sanity: build
	rm -rf $(STATE)/sanity && mkdir -p $(SANITY)
	tar -xzf $(TARBALL) -C $(SANITY)
	cd $(SANITY) && git init -q && git add -A
	test -s $(GET_PIP_CACHE) || install -D -m 0644 tools/sanity/get_pip.py $(GET_PIP_CACHE)
	cd $(SANITY) && ansible-test sanity --python 3.11 --color no

# The built collection installs and its playbook parses and runs by FQCN, outside the checkout.
# --no-deps: its dependencies come with the pinned `ansible` package (or requirements.yml).
install-check: build
	rm -rf $(STATE)/install && mkdir -p $(STATE)/install
	cd $(STATE)/install && env -u ANSIBLE_CONFIG ansible-galaxy collection install --no-deps \
	  -p $(CURDIR)/$(STATE)/install $(CURDIR)/$(TARBALL)
	cd $(STATE)/install && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(STATE)/install \
	  ansible-playbook kubebin.cluster.site -i $(CURDIR)/inventories/prod --syntax-check
	cd $(STATE)/install && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(STATE)/install \
	  ansible-doc -t module kubebin.cluster.kernel_modules >/dev/null
	# ...and runs: its controller-side inventory checks, on the lab inventory, for real.
	cd $(STATE)/install && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(STATE)/install \
	  ansible-playbook kubebin.cluster.site -i $(CURDIR)/inventories/lab --tags preflight_inventory

# kubernetes-validate with the current releases' schemas (1.25+) for tests/unit/render: kept
# out of the venv (whose 1.18.0 holds the 1.10 schemas) and run with PYTHONPATH=$(KV_CURRENT).
# Its one dependency the venv lacks is importlib-resources.
KV_CURRENT := $(STATE)/kv-current
KV_CURRENT_VERSION := 1.37.0
KV_CURRENT_PKGS := kubernetes-validate==$(KV_CURRENT_VERSION) importlib-resources==7.1.0
KV_CURRENT_STAMP := $(KV_CURRENT)/.installed-$(KV_CURRENT_VERSION)
kv-current: $(KV_CURRENT_STAMP)
$(KV_CURRENT_STAMP): | venv
	rm -rf $(KV_CURRENT)
	$(PY) -m pip install -q --no-deps --target $(KV_CURRENT) $(KV_CURRENT_PKGS)
	touch $@

unit: venv install-check kv-current
	mkdir -p $(REPORTS)
	pytest -q tests/unit --junitxml=$(REPORTS)/unit.xml

# Every scenario: create -> (check) -> converge -> idempotence -> verify -> destroy.
# Lab hosts share this machine's kernel: host-global sysctls are restored afterwards.
molecule: $(addprefix molecule-,$(SCENARIOS))
$(addprefix molecule-,$(SCENARIOS)): molecule-%: system-deps venv
	mkdir -p $(REPORTS)
	$(LAB) sysctl-save molecule
	rc=0; $(LAB) exec molecule test -s $* || rc=$$?; $(LAB) sysctl-restore molecule; exit $$rc

# Benchmarks, reported as ratios (ours vs the usual ansible.utils / Jinja way), not timed tests.
bench: venv
	$(PY) tools/bench/bench_cidr.py
	$(PY) tools/bench/bench_kernel.py
	$(PY) tools/bench/bench_render.py

clean:
	rm -rf build $(STATE)/sanity $(STATE)/install $(REPORTS)
