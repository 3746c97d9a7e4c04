"""Loading the real app in one child interpreter, shared by the app-reading checks.

The app, settings, middleware and lifespan checks read one child. The parent side
(`session`) starts it, enforces the deadline (killing the child's whole process group) and
hands each check its stage's report. The child side (`child`, and the probes it calls) runs
inside the app's interpreter: it imports only the standard library until it imports the app,
and reports JSON lines over a pipe, never over stdout (the app's own).
"""
