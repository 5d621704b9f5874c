"""Database layer: engine, column types, migrations. SQL lives here and in the services that own it."""
