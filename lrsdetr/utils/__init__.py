"""The bottom layer, imported by every other: the user-error type (`errors`), command-line flags (`cli`), the
Ultralytics internals we rely on (`ultralytics_private`) and the offline label `fonts`."""
