"""Structures: intake and validation, identity, ordered supercells, built-in examples."""
from perovscreen.structures.examples import get_example, list_examples
from perovscreen.structures.intake import StructureRecord, load_file, load_structures, record_from_structure

__all__ = ["StructureRecord", "get_example", "list_examples", "load_file", "load_structures",
           "record_from_structure"]
