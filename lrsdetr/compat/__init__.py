"""Interoperability with the authors' implementation."""

from .original import import_original_checkpoint, load_original_state_dict, map_original_state_dict

__all__ = ("load_original_state_dict", "import_original_checkpoint", "map_original_state_dict")
