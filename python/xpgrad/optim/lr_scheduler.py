"""Learning-rate schedules: each sets ``group["lr"]`` of an optimizer's parameter groups.

Constructor arguments and the learning-rate sequences are PyTorch's. StepLR, ExponentialLR
and InverseTimeLR are chainable, as PyTorch's recursive forms: each ``step()`` multiplies the
group's current rate, so a rate set by hand (or by another schedule on the same optimizer)
is carried on. CosineAnnealingWarmRestarts and CyclicLR compute ηₜ in closed form from the
group's initial rate η₀ and the step count t (``last_epoch``), as PyTorch's do; so does
``step(epoch)`` for every schedule. ``step()`` is called once per epoch (CyclicLR: once per
batch), after ``optimizer.step()``.

A schedule's ``state_dict`` holds the schedule's state, the optimizer's the rates (and
CyclicLR's momenta): to resume exactly, build the optimizer and the schedule, then load both
(``load_state_dict`` restores the schedule only, as PyTorch's; the constructor sets the rates
of step 0, so the optimizer's state is loaded after it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..counts import as_count
from .optimizer import Optimizer


class _Scheduler:
    """What every schedule shares: the optimizer, the last rates set, and checkpointing."""

    _not_saved: tuple[str, ...] = ("optimizer",)
    per_batch = False  # True: step() after every optimizer step (the schedule counts batches)

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _set_lrs(self, lrs: Sequence[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each parameter group after the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (and callables), as in PyTorch."""
        return {k: v for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the schedule's state, as in PyTorch; the rates are the optimizer's state
        (its ``state_dict`` carries them), which this leaves as they are."""
        self.__dict__.update(state_dict)


class LRScheduler(_Scheduler):
    """Base of the epoch-driven schedules: ηₜ = f(η₀, t) for each group (``_lr_at``), and for
    the chainable ones ηₜ = g(ηₜ₋₁, t) from the group's current rate (``_next_lr``).

    ``base_lrs`` holds each group's η₀ (``group["initial_lr"]``, set on construction when
    ``last_epoch == -1``); the constructor takes the first step, to ``last_epoch + 1``, so the
    optimizer starts at η(0).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        super().__init__(optimizer)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param_groups[{i}] has no 'initial_lr': resuming needs the optimizer's state"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step: a ``step()``, unless the schedule says otherwise."""
        self.step()

    def _lr_at(self, group_index: int, epoch: float) -> float:
        """The learning rate of group ``group_index`` at step ``epoch`` (closed form)."""
        raise NotImplementedError

    def _next_lr(self, group_index: int, lr: float) -> float:
        """The rate of group ``group_index`` at step ``last_epoch`` given its current rate
        ``lr``: the closed form, unless the schedule is chainable."""
        return self._lr_at(group_index, self.last_epoch)

    def step(self, epoch: float | None = None) -> None:
        """Advance to the next step (or jump to ``epoch``, in closed form) and set each
        group's learning rate."""
        groups = self.optimizer.param_groups
        if epoch is None:
            self.last_epoch += 1
            self._set_lrs([self._next_lr(i, group["lr"]) for i, group in enumerate(groups)])
        else:
            self.last_epoch = math.floor(epoch)
            self._set_lrs([self._lr_at(i, epoch) for i in range(len(groups))])


class StepLR(LRScheduler):
    """ηₜ = η₀ · γ^⌊t / step_size⌋: decay by γ every ``step_size`` epochs (chainable:
    ηₜ = γ · ηₜ₋₁ when step_size divides t > 0, else ηₜ₋₁).

    Resumed with ``last_epoch=k``, the constructor's step to k + 1 decays when step_size divides
    k + 1, as PyTorch's.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = as_count(step_size, "step_size", 1)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, group_index: int, epoch: float) -> float:
        return self.base_lrs[group_index] * self.gamma ** (epoch // self.step_size)

    def _next_lr(self, group_index: int, lr: float) -> float:
        t = self.last_epoch
        return lr * self.gamma if t > 0 and t % self.step_size == 0 else lr


class _MultiplicativeLR(LRScheduler):
    """ηₜ = ηₜ₋₁ · factor(t), PyTorch's MultiplicativeLR: the constructor's step keeps the
    current rates (PyTorch 2.13's ``_is_initial``), so a schedule resumed with ``last_epoch=k``
    on a loaded optimizer starts from the loaded rates."""

    def _factor(self, epoch: int) -> float:
        """What the rate is multiplied by at step ``epoch``."""
        raise NotImplementedError

    def _next_lr(self, group_index: int, lr: float) -> float:
        return lr * self._factor(self.last_epoch)

    def _initial_step(self) -> None:
        self.last_epoch += 1
        self._set_lrs([group["lr"] for group in self.optimizer.param_groups])


class ExponentialLR(_MultiplicativeLR):
    """ηₜ = η₀ · γᵗ (chainable: ηₜ = γ · ηₜ₋₁)."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, group_index: int, epoch: float) -> float:
        return self.base_lrs[group_index] * self.gamma**epoch

    def _factor(self, epoch: int) -> float:
        return self.gamma


class InverseTimeLR(_MultiplicativeLR):
    """The lectures' inverse-time decay: ηₜ = η₀ / (1 + decay · t).

    Chainable like StepLR and ExponentialLR: ηₜ = ηₜ₋₁ · ((1 + decay · (t − 1)) / (1 + decay · t)).
    (Keras's ``InverseTimeDecay`` with decay_steps = 1; not in PyTorch, where
    ``MultiplicativeLR(opt, lambda t: (1 + decay * (t - 1)) / (1 + decay * t))`` gives the same
    sequence, to the last bit, and ``LambdaLR(opt, lambda t: 1 / (1 + decay * t))`` the same to
    rounding while nothing else changes the rate.) Resumed with ``last_epoch=k``, the rate of
    step k is kept at step k + 1, and the factors after it are one step late, as with PyTorch's
    MultiplicativeLR: ``load_state_dict`` resumes exactly.
    """

    def __init__(self, optimizer: Optimizer, decay: float, last_epoch: int = -1) -> None:
        if not decay >= 0:
            raise ValueError(f"decay must be >= 0, got {decay!r}")
        self.decay = decay
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, group_index: int, epoch: float) -> float:
        return self.base_lrs[group_index] / (1 + self.decay * epoch)

    def _factor(self, epoch: int) -> float:
        return (1 + self.decay * (epoch - 1)) / (1 + self.decay * epoch)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter 2017): cosine annealing from η₀ to η_min, restarted every Tᵢ epochs.

    ηₜ = η_min + ½ (η₀ − η_min) (1 + cos(π T_cur / Tᵢ)), with T_cur the epochs since the last
    restart and T₀, T₁ = T₀·T_mult, T₂ = T₀·T_mult², ... the cycle lengths. ``step(epoch)``
    accepts fractional epochs (e.g. ``epoch + i / iters`` per batch), as in PyTorch; a ``step()``
    after it goes one epoch on from there (``epoch_fraction`` keeps the part after the point).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.T_0 = as_count(T_0, "T_0", 1)
        self.T_mult = as_count(T_mult, "T_mult", 1)
        self.eta_min = eta_min
        self.epoch_fraction = 0
        super().__init__(optimizer, last_epoch)

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch (step(1.5) then step() is at 2.5, PyTorch's T_cur + 1), or jump to
        ``epoch`` >= 0."""
        if epoch is None:
            epoch = self.last_epoch + 1 + self.epoch_fraction
        elif not epoch >= 0:
            raise ValueError(f"epoch must be >= 0, got {epoch!r}")
        self.epoch_fraction = epoch - math.floor(epoch)
        super().step(epoch)

    def _cycle(self, epoch: float) -> tuple[float, int]:
        """(T_cur, Tᵢ) at ``epoch``; exact at restarts, where a logarithm would round."""
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        t_cur, t_i = epoch, self.T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= self.T_mult
        return t_cur, t_i

    def _lr_at(self, group_index: int, epoch: float) -> float:
        t_cur, t_i = self._cycle(epoch)
        base = self.base_lrs[group_index]
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017), stepped once per batch; t counts batches.

    A cycle rises from base_lr to max_lr in ``step_size_up`` steps and falls back in
    ``step_size_down`` (default: the same). With c = ⌊1 + t/L⌋ (L the cycle length),
    x = 1 + t/L − c and h = x/r on the rising part (x ≤ r = up/L), (x − 1)/(r − 1) after::

        ηₜ = base_lr + (max_lr − base_lr) · h · s,   s = 1 (triangular), 1/2^(c−1) (triangular2),
                                                     γᵗ (exp_range), or scale_fn(c or t)

    With ``cycle_momentum`` the momentum (or Adam's β₁) runs inversely, from max_momentum
    down to base_momentum, as in PyTorch.
    """

    per_batch = True

    _not_saved = ("optimizer", "_scale_fn_custom")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | Sequence[float],
        max_lr: float | Sequence[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.8,
        max_momentum: float | Sequence[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(
                f"mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}"
            )
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        step_size_down = step_size_up if step_size_down is None else step_size_down
        if not (step_size_up > 0 and step_size_down >= 0):
            raise ValueError("step_size_up must be > 0 and step_size_down >= 0")
        groups = optimizer.param_groups
        base_lrs = _per_group("base_lr", base_lr, groups)
        self.max_lrs = _per_group("max_lr", max_lr, groups)
        for name, lrs in (("base_lr", base_lrs), ("max_lr", self.max_lrs)):
            for lr in lrs:
                if not lr >= 0:
                    raise ValueError(f"{name} must be >= 0, got {lr!r}")
        if last_epoch == -1:
            for group, lr in zip(groups, base_lrs):
                group["lr"] = group["initial_lr"] = lr
        self.total_size = float(step_size_up + step_size_down)
        self.step_ratio = step_size_up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        if scale_fn is None:
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    "optimizer has neither 'momentum' nor 'betas'; pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", base_momentum, groups)
            self.max_momentums = _per_group("max_momentum", max_momentum, groups)
        super().__init__(optimizer, last_epoch)

    def _scale(self, cycle: int, epoch: float) -> float:
        x = cycle if self.scale_mode == "cycle" else epoch
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def _height(self, epoch: float) -> tuple[float, float]:
        """(h, s): how far up the current cycle the schedule is, in [0, 1], and the scale."""
        cycle = math.floor(1 + epoch / self.total_size)
        x = 1.0 + epoch / self.total_size - cycle
        if x <= self.step_ratio:
            h = x / self.step_ratio
        else:
            h = (x - 1) / (self.step_ratio - 1)
        return h, self._scale(cycle, epoch)

    def _lr_at(self, group_index: int, epoch: float) -> float:
        base = self.base_lrs[group_index]
        h, s = self._height(epoch)
        return base + (self.max_lrs[group_index] - base) * h * s  # PyTorch's grouping

    def _cycle_momentum(self, epoch: float) -> None:
        """Set each group's momentum (or β₁) at ``epoch``: max_momentum − (max − base)·h·s."""
        if not self.cycle_momentum:
            return
        h, s = self._height(epoch)
        groups = self.optimizer.param_groups
        for group, low, high in zip(groups, self.base_momentums, self.max_momentums):
            momentum = high - (high - low) * h * s
            if self.use_beta1:
                group["betas"] = (momentum, *group["betas"][1:])
            else:
                group["momentum"] = momentum

    def step(self, epoch: float | None = None) -> None:
        epoch = self.last_epoch + 1 if epoch is None else epoch
        super().step(epoch)
        self._cycle_momentum(epoch)


def _per_group(
    name: str, value: float | Sequence[float], groups: list[dict[str, Any]]
) -> list[float]:
    """One value per parameter group, from a scalar or a sequence of the right length."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected {len(groups)} values for {name}, got {len(value)}")
        return list(value)
    return [value] * len(groups)


class ReduceLROnPlateau(_Scheduler):
    """Multiply the learning rate by ``factor`` when a monitored metric stops improving.

    The lectures' rule "halve the learning rate when the validation error rises" is the default
    (factor ½, patience 0). After each epoch call ``step(metric)``: a metric better than the best
    so far (mode "min": below best·(1 − threshold) for threshold_mode "rel", below best − threshold
    for "abs"; above best·(1 + threshold) or best + threshold for "max") resets the count of bad epochs; once that count exceeds
    ``patience``, ηₜ = max(η · factor, min_lr) (changes smaller than ``eps`` are skipped) and the
    next ``cooldown`` epochs are not counted. PyTorch's algorithm, with these defaults.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.5,
        patience: int = 0,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not 0 <= factor < 1.0:
            raise ValueError(f"factor must be in [0, 1), got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not (patience >= 0 and cooldown >= 0):
            raise ValueError("patience and cooldown must be >= 0")
        super().__init__(optimizer)
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = _per_group("min_lr", min_lr, optimizer.param_groups)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.eps = eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, current: float, best: float) -> bool:
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return current < (best * (1 - self.threshold) if rel else best - self.threshold)
        return current > (best * (1 + self.threshold) if rel else best + self.threshold)

    def _min_lrs(self) -> list[float]:
        """One min_lr per group: a group added since construction gets the scalar ``min_lr``
        (ValueError if one per group was given), as in PyTorch."""
        groups = len(self.optimizer.param_groups)
        if len(self.min_lrs) != groups:
            if self.default_min_lr is None:
                raise ValueError(
                    f"min_lr has {len(self.min_lrs)} values, the optimizer has {groups} groups "
                    "(one was added since): set min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * groups
        return self.min_lrs

    def step(self, metrics: float) -> None:
        """Record this epoch's metric and reduce the learning rates if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.num_bad_epochs > self.patience:
            for i, (lr, min_lr) in enumerate(zip(lrs, self._min_lrs())):
                new_lr = max(lr * self.factor, min_lr)
                lrs[i] = new_lr if lr - new_lr > self.eps else lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._set_lrs(lrs)  # get_last_lr() follows every step, as in PyTorch


__all__ = [
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "InverseTimeLR",
    "LRScheduler",
    "ReduceLROnPlateau",
    "StepLR",
]
