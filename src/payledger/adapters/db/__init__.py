"""The store: schema, migrations, connections (SQLite embedded, PostgreSQL scaled out)."""
