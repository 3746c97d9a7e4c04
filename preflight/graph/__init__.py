"""The import graph: scanner (source -> actions), resolver (name -> file), walker (graph search).

Pure parts with no app code executed: modules are found with path-based finders and read as
text, never imported.
"""
