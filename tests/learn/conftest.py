import numpy as np
import pytest


def hartmann6(x: np.ndarray) -> np.ndarray:
    """Hartmann-6 (minimum -3.32237 at a known point in [0, 1]^6)."""
    alpha = np.array([1.0, 1.2, 3.0, 3.2])
    A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
    P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
    return -np.sum(alpha * np.exp(-np.sum(A * (x[:, None, :] - P) ** 2, axis=2)), axis=1)


@pytest.fixture(scope="session")
def hartmann_oracle():
    from perovscreen.learn.oracle import oracle_from_arrays

    rng = np.random.default_rng(7)
    X = rng.random((500, 6))
    y = hartmann6(X) + 0.01 * rng.standard_normal(len(X))
    return oracle_from_arrays(X, y, minimize=True, target="hartmann6")
