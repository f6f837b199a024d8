# Paths and settings shared by bin/workbench and bin/odoo. Sourced, never executed: it only
# computes variables, so that every command agrees on where Odoo, the virtualenv, the
# configuration and the project's PostgreSQL live.
# shellcheck shell=bash

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}

# Everything installed lives outside the repository, so a fresh clone reuses it.
CACHE_DIR=${INGENEO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ingeneo_powens}

# Debian's odoo-19 package, unpacked; ODOO_SRC may name any Odoo 19 tree that holds the `odoo`
# package (a git checkout of odoo/odoo, or a dist-packages folder).
ODOO_DEB_VERSION=${ODOO_DEB_VERSION:-19.0.0+dfsg-1}
ODOO_UNPACKED="$CACHE_DIR/odoo-$ODOO_DEB_VERSION"
ODOO_SRC=${ODOO_SRC:-$ODOO_UNPACKED/usr/lib/python3/dist-packages}

# The virtualenv is named after its requirement files: changing a pin builds a new one.
REQUIREMENTS_HASH=$(cat "$PROJECT_DIR"/requirements/*.txt | sha256sum | cut -c1-12)
VENV_DIR="$CACHE_DIR/venv-$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-$REQUIREMENTS_HASH"

STATE_DIR="$CACHE_DIR/state"
ODOO_CONF="$STATE_DIR/odoo.conf"
ODOO_DATA_DIR="$STATE_DIR/data"

# PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` user and lives
# in its home, which that user can reach (root's home is closed to it).
if [ "$(id -u)" = 0 ]; then
    PG_OWNER=postgres
    PG_BASE=${INGENEO_PG_DIR:-/var/lib/postgresql/ingeneo_powens}
else
    PG_OWNER=$(id -un)
    PG_BASE=${INGENEO_PG_DIR:-$CACHE_DIR/pg}
fi
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DATA="$PG_BASE/data"
PG_SOCKET_DIR="$PG_BASE/run"
PG_PORT=${INGENEO_PG_PORT:-54329}
PG_USER=odoo

ODOO_HTTP_PORT=${ODOO_HTTP_PORT:-8069}
ODOO_TEST_HTTP_PORT=${ODOO_TEST_HTTP_PORT:-8079}
SANDBOX_PORT=${SANDBOX_PORT:-8070}
RUN_DB=${RUN_DB:-ingeneo}
