-- casefold(text) is registered by the application on every SQLite connection (see
-- src/db/mod.rs); PostgreSQL defines it in SQL. Nothing to store here.
SELECT 1;
