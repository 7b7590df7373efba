"""Write side: the normalized catalog in PostgreSQL, its commands, feed import and migrations."""
