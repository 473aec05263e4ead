"""Refuse UPDATE of stored versions in the database itself, on PostgreSQL and SQLite.

The model's save() already refuses; the trigger also stops queryset.update() and raw SQL from
ordinary application code. Someone who can drop the trigger can still edit rows, which is why
every version is also hash-chained (passport.services.versions.version_chain_verify).
"""

from django.db import migrations

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION passport_version_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'passport_version rows are immutable';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER passport_version_immutable BEFORE UPDATE ON passport_version
    FOR EACH ROW EXECUTE FUNCTION passport_version_refuse_update();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS passport_version_immutable ON passport_version;
DROP FUNCTION IF EXISTS passport_version_refuse_update();
"""
SQLITE_CREATE = """
CREATE TRIGGER passport_version_immutable BEFORE UPDATE ON passport_version
BEGIN
    SELECT RAISE(ABORT, 'passport_version rows are immutable');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS passport_version_immutable;"


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("passport", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
