"""Fixtures: a small noisy transmon device."""

from __future__ import annotations

import pytest

from quantum_service.drivers.fleet import superconducting_grid


@pytest.fixture
def grid_2x2():
    """A noisy 2x2 transmon grid: (capabilities, nominal parameters)."""
    return superconducting_grid("sc-cal", rows=2, cols=2, seed=5)
