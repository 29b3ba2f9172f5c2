"""A fixture for model tests: tiny networks run fastest on one torch thread (and a shared
machine's other jobs keep theirs). Import it into a test module to use it there."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
