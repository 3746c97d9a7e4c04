"""The ASGI entry, as `django-admin startproject` writes it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite.settings_good")

application = get_asgi_application()
