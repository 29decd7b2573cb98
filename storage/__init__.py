"""SQLModel models, engine, migrations, secret encryption, the blob store and the units CSV importer.

The bottom layer: it imports no other package of the project.
"""
