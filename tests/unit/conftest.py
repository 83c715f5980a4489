"""Fixtures for unit tests: a real scripted model server on loopback and a sample spec."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_sandbox import UNSUPERVISED

from level5.api.spec import AgentTaskSpec
from scripted_model import ScriptedModel


@pytest.fixture
def scripted_model() -> Iterator[ScriptedModel]:
    with ScriptedModel() as server:
        yield server


@pytest.fixture
def csv_spec() -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {
                "primary": "Print total revenue per region from /data/sales.csv (region,product,units,price)",
                "successCriteria": [
                    {"name": "exits-cleanly", "exitCode": 0},
                    {"name": "mentions-north", "outputContains": "north"},
                    {"name": "sensible", "judge": "Each region appears once with a revenue figure."},
                ],
                "constraints": ["Use only the csv module"],
                "preferences": ["Sort regions alphabetically"],
            },
            "capabilities": {"files": {"referenceData": "sales-data", "read": ["/data/sales.csv"]}},
            "iterations": {"maxIterations": 3},
            "autonomy": UNSUPERVISED,
        }
    )
