"""A minimal Django project for the middleware check."""
