# Nothing: measures interpreter start-up with the modules a CLEOPE notebook imported first.
import csv, json, os  # noqa: F401
