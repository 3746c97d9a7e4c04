"""A module that builds its settings when imported (a common pattern)."""

from mwapps.settings_bad import Settings

settings = Settings()
