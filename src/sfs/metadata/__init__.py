"""The metadata store: SQLAlchemy models, the database handle and Alembic migrations."""
