# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate demo superuser lint format messages bench bench-smoke lock clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python 3.12 or newer is needed, found " + sys.version' \
		|| (echo "Install Python 3.12+ (the repo's .python-version selects 3.13 under pyenv)"; exit 1)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_history

run: demo
	@echo
	@echo "  Site:   http://127.0.0.1:8000/"
	@echo "  Admin:  http://127.0.0.1:8000/admin/  (create an organizer login with: make superuser)"
	@echo "  Emails: written as .eml files to var/mail/"
	@echo
	$(BIN)/honcho start -f Procfile.dev

superuser: migrate
	$(BIN)/python manage.py createsuperuser

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Translations: collect the marked strings into locale/*/LC_MESSAGES/django.po
# (translate the new entries there), and compile them into the django.mo the
# site reads. Needs GNU gettext (apt-get install gettext).
messages: install
	$(BIN)/python manage.py makemessages --all
	$(BIN)/python manage.py compilemessages

# Benchmarks over HTTP in the production configuration, each stack with a
# database of its own: SQLite; PostgreSQL too when DATABASE_URL is set; Redis
# as the cache too when CACHE_URL is set. Writes docs/benchmarks.md.
bench: install
	$(BIN)/python -m bench

# The same at tiny sizes (CI): fails on wrong counts, never on speed.
bench-smoke: install
	$(BIN)/python -m bench --smoke

# Re-pin every dependency from pyproject.toml into requirements.txt.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet ".[dev]"
	.venv-lock/bin/pip freeze --exclude seminar-site > requirements.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var staticfiles
