"""Where the files that ship with triage live (prompts, taxonomies, demo data, vocabularies)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# A wheel carries prompts/ and data/ inside the package (see pyproject.toml); a checkout, installed
# editable or not, has them at its top level, beside the package.
ROOT = PACKAGE if (PACKAGE / "prompts").is_dir() else PACKAGE.parent
PROMPTS_DIR = ROOT / "prompts"
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
TAXONOMY_DIR = DATA_DIR / "taxonomies"
