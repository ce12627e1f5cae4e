# Sourced by run.sh and test.sh: create the project's virtual environment (.venv) if needed and
# install tierwatch into it, editable, with the extras given ("$@"). Never the system Python:
# Debian's and Ubuntu's refuse (PEP 668), and a global editable install would repoint other
# checkouts. Re-running is cheap: pip only checks what is there.
VENV="${TIERWATCH_VENV:-$PWD/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip "setuptools>=69" wheel
extras="${1:-}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
PY="$VENV/bin/python"
