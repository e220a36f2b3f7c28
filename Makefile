# Tepi: two commands on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test system-deps demo-deps venv bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,postgres,embedded-broker]"
	@# The install is editable: Tepi's own packages are compiled where they are, or each start of
	@# `tepi gateway` would compile every module in memory.
	$(PY) -m compileall -qq -j 0 tepi contract core kinds gateway
	touch $(STAMP)

venv: $(STAMP)

# Mosquitto, VictoriaMetrics and Chromium (the console's browser tests: Playwright drives
# Debian's, never a browser of its own) from Debian when missing (needs root, as on CI);
# without root a missing Chromium only skips the browser tests.
# PostgreSQL is started if it is installed but not running.
system-deps:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || missing="$$missing mosquitto"; \
	command -v victoria-metrics >/dev/null 2>&1 || missing="$$missing victoria-metrics"; \
	if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then missing="$$missing chromium"; \
		else echo "no /usr/bin/chromium: the console's browser tests are skipped (sudo apt-get install chromium)"; fi; \
	fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing:$$missing (install them, e.g. sudo apt-get install$$missing)"; exit 1; \
		fi; \
	fi
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		if [ "$$(id -u)" = 0 ] && [ -d /etc/postgresql ]; then \
			pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
		fi; \
	fi

# The demo prefers Mosquitto and installs it the same way where it can (as root, with apt-get);
# without it, `tepi demo` runs on the embedded amqtt broker, so nothing here fails.
demo-deps:
	@if ! command -v mosquitto >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing: mosquitto"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; } \
				|| echo "mosquitto could not be installed: the demo runs on the embedded amqtt broker"; \
		else \
			echo "no mosquitto on PATH (e.g. sudo apt-get install mosquitto): the demo runs on the embedded amqtt broker"; \
		fi; \
	fi

test: system-deps venv
	$(PY) -m pytest -q --durations=30 $(PYTEST_ARGS)

demo: demo-deps venv
	$(VENV)/bin/tepi demo

bench: system-deps venv
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache
