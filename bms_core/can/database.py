"""Loads our Pylontech DBC, shipped inside the package, once per process."""

from __future__ import annotations

import functools
from importlib import resources

import cantools
from cantools.database.can import Database

DBC_RESOURCE = "pylontech.dbc"


def dbc_text() -> str:
    return resources.files(__package__).joinpath(DBC_RESOURCE).read_text(encoding="ascii")


@functools.cache
def pylontech_database() -> Database:
    database = cantools.database.load_string(dbc_text(), database_format="dbc")
    if not isinstance(database, Database):
        raise TypeError(f"{DBC_RESOURCE} did not load as a CAN database")
    return database
