"""Style DNA: a personal layer learned from the photographer's own edits on top of Fix.

>>> from kilo.style import apply_style, show_style
>>> show_style(catalog).lines                         # doctest: +SKIP
>>> apply_style(catalog, project_id, min_confidence=0.5)   # doctest: +SKIP
"""

from kilo.style.aggregate import StyleAggregate, export_style_aggregate
from kilo.style.apply import (
    StyleApplyReport,
    StyleSummary,
    apply_style,
    fix_only_assets,
    reset_style,
    show_style,
)
from kilo.style.learn import StylePrediction, learn_from_version, predict_for_asset
from kilo.style.model import DEFAULT_MIN_CONFIDENCE, StyleModel

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "StyleAggregate",
    "StyleApplyReport",
    "StyleModel",
    "StylePrediction",
    "StyleSummary",
    "apply_style",
    "export_style_aggregate",
    "fix_only_assets",
    "learn_from_version",
    "predict_for_asset",
    "reset_style",
    "show_style",
]
