"""Tables for the numbers beside the qualitative evidence: indicators and surveys.

Management information (one value per indicator and period) and Likert survey
responses (one row per respondent and item) live in the project store like
everything else, so evidence and reports are computed from one place. The tables
join ``store.metadata``; migration ``0002_indicators_surveys`` creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from .store import metadata

# One observed value of an indicator in a period; re-importing a period replaces it.
indicator_values = sa.Table(
    "indicator_values",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("indicator", sa.String(255), nullable=False),
    sa.Column("period", sa.String(64), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("unit", sa.String(64), nullable=False, default=""),
    sa.Column("source_file", sa.String(1024), nullable=False, default=""),
    sa.Column("imported_at", sa.String(32), nullable=False),
    sa.UniqueConstraint("indicator", "period", name="uq_indicator_period"),
)

# A Likert item of a survey: the question as asked, and the ToC node it is evidence for.
survey_items = sa.Table(
    "survey_items",
    metadata,
    sa.Column("survey", sa.String(255), primary_key=True),
    sa.Column("item", sa.String(255), primary_key=True),
    sa.Column("question", sa.Text, nullable=False, default=""),
    sa.Column("outcome", sa.String(255)),  # a ToC node id, or NULL
    sa.Column("seq", sa.Integer, nullable=False, default=0),
)

# One answer: ``response`` is the canonical scale label, NULL when the cell was blank.
survey_responses = sa.Table(
    "survey_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("survey", sa.String(255), nullable=False),
    sa.Column("respondent", sa.String(255), nullable=False),
    sa.Column("wave", sa.String(64), nullable=False, default=""),
    sa.Column("item", sa.String(255), nullable=False),
    sa.Column("response", sa.String(64)),
    sa.Column("imported_at", sa.String(32), nullable=False),
)
sa.Index("ix_survey_responses_item", survey_responses.c.survey, survey_responses.c.item, survey_responses.c.wave)
