source: SQL/sqlite.initial.sql
