"""The synthetic street shared by the epipolar odometry's test modules."""
from exact_depth import synthetic_street
import pytest


@pytest.fixture(scope='module')
def synthetic():
    """Six frames of the synthetic street (640x192): images, exact depth, true poses."""
    return synthetic_street()
