"""The lectures' worked backpropagation examples, checked exactly."""

import pytest

import xpgrad as xg


def test_sum_times_product(backend):
    """f = (x + y)·z at (1, −3, 4): ∂f/∂x = ∂f/∂y = z = 4, ∂f/∂z = x + y = −2."""
    x, y, z = (xg.tensor(v, requires_grad=True) for v in (1.0, -3.0, 4.0))
    q = x + y
    q.retain_grad()
    f = q * z
    f.backward()
    assert f.item() == -8.0
    assert (x.grad.item(), y.grad.item(), z.grad.item(), q.grad.item()) == (4.0, 4.0, -2.0, 4.0)


def test_cos_plus_sqrt_chain(backend):
    """f = cos(c) + √c, c = a + eᵃ, a = x², x = 2, every intermediate gradient retained."""
    x = xg.tensor(2.0, dtype="float64", requires_grad=True)
    a = x**2
    c = a + a.exp()
    f = c.cos() + c.sqrt()
    for t in (a, c, f):
        t.retain_grad()
    f.backward()
    assert f.grad.item() == 1.0
    assert c.grad.item() == pytest.approx(-0.822, abs=5e-4)
    assert a.grad.item() == pytest.approx(-45.717, abs=5e-4)
    assert x.grad.item() == pytest.approx(-182.87, abs=5e-3)


def test_two_layer_relu_regression(backend):
    """x = 1, y = 0, w1 = 1/3, w2 = 2: h = relu(w1 x), f = w2 h, L = (f − y)²."""
    x, y = xg.tensor(1.0), xg.tensor(0.0)
    w1 = xg.tensor(1 / 3, dtype="float64", requires_grad=True)
    w2 = xg.tensor(2.0, dtype="float64", requires_grad=True)
    h = (w1 * x).relu()
    loss = (w2 * h - y) ** 2
    loss.backward()
    assert w2.grad.item() == pytest.approx(4 / 9)
    assert w1.grad.item() == pytest.approx(8 / 3)


@pytest.mark.parametrize("t0", [-2.0, 0.5, 3.0])
def test_polynomial_derivative(backend, t0):
    """r = t²(3t + 1) ⇒ dr/dt = 9t² + 2t, and d²r/dt² = 18t + 2 by double backward."""
    t = xg.tensor(t0, dtype="float64", requires_grad=True)
    r = t**2 * (3 * t + 1)
    (g,) = xg.grad(r, t, create_graph=True)
    assert g.item() == pytest.approx(9 * t0**2 + 2 * t0)
    (g2,) = xg.grad(g, t)
    assert g2.item() == pytest.approx(18 * t0 + 2)
