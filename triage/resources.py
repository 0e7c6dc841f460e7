"""Where the files that ship with triage live (prompts, taxonomies, demo data, vocabularies)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = ROOT / "prompts"
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
TAXONOMY_DIR = DATA_DIR / "taxonomies"
