"""Alembic environment: migrations are plain SQL, run over SQLAlchemy's psycopg 3 dialect."""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("the Alembic config sets no sqlalchemy.url")
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
