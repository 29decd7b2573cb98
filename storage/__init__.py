"""SQLModel models, engine, migrations, secret encryption and the blob store."""
