"""No routes: the checks only read the settings."""

urlpatterns: list[object] = []
