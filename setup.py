"""Packages for setuptools; everything else is in pyproject.toml.

Alembic's `migrations/` stays at the top of the repository (where developers and `alembic`
expect it) and ships inside the wheel as `bot/migrations`, so an installed pixelbot can
upgrade its database from any folder.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["bot", "bot.*"]),
        "bot.migrations",
        "bot.migrations.versions",
    ],
    package_dir={"bot.migrations": "migrations"},
)
