# Two commands do everything: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app registry
DS := static/vendor/designsystemet
PO := $(wildcard translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test bench install assets translations db demo lint extract-messages clean

# The web server and, beside it, the one scheduler process; Ctrl-C stops both.
run: install assets translations db demo
	@$(FLASK) demo logins
	$(FLASK) scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install assets translations
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The benchmark at national scale (bench/README.md), not part of `make test` (tests/bench runs it tiny):
# make bench BENCH_DB=sqlite|postgresql [BENCH_SCALE=0.01] [BENCH_ARGS="--duration 10 --regenerate"]
BENCH_DB ?= sqlite
BENCH_SCALE ?= 1

bench: install translations
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench --db $(BENCH_DB) --scale $(BENCH_SCALE) $(BENCH_ARGS)

assets: $(DS)/designsystemet.css $(DS)/theme.css

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(DS)/designsystemet.css: node_modules/.package-lock.json
	mkdir -p $(DS)
	cp node_modules/@digdir/designsystemet-css/dist/src/index.css $@

$(DS)/theme.css: node_modules/.package-lock.json
	mkdir -p $(DS)
	cp node_modules/@digdir/designsystemet-theme/brand/digdir.css $@

translations: $(MO)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After adding or changing user-visible strings: refresh the catalogues, then translate nb and nn.
# Scans only registry/ and templates/ (babel.cfg). Small diffs: entries sorted by msgid, locations
# name the file but no line number, no wrapping. New or changed strings arrive empty, never fuzzy
# (a catalogue is created when missing); old ones are dropped. en gets the English source as its text.
# tests/test_translations.py extracts the same way: keep its KEYWORDS and SOURCE_DIRS in step.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	  --add-comments=TRANSLATORS: --project=Tolkeregister --sort-output --add-location=file --no-wrap \
	  -o translations/messages.pot registry templates
	for lang in nb nn en; do \
	  $(BIN)/pybabel update -i translations/messages.pot -d translations -l $$lang --init-missing \
	    --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date --no-wrap || exit 1; \
	done
	$(BIN)/python tools/fill_english.py translations/en/LC_MESSAGES/messages.po

db: install
	$(FLASK) db upgrade

demo: install
	$(FLASK) demo load --if-empty

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor instance/registry.sqlite3* $(MO)
