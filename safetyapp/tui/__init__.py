"""The Textual interface. Importing it starts the interface's garbage-collector discipline
(:func:`safetyapp.gcpause.interface_collector`): no full collection during its imports, its
first frame or while someone uses it, one whenever it is quiet; restored when its app exits."""

from safetyapp.gcpause import interface_collector

interface_collector()
