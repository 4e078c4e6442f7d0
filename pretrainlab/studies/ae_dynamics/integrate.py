"""Fixed-step integration of ODEs: the classical Runge–Kutta method (RK4) and a step-halving error check.

Used by ``ode.py`` (study 4) to integrate the autoencoder's order-parameter ODEs. Runge (1895), Kutta (1901);
see e.g. Press et al., *Numerical Recipes*, §17.1.
"""

import numpy as np

from ...validation import check_number


def _check_positive(value, name):
    return check_number(value, name, low=0.0, low_open=True)


def rk4(f, y0, t_end, dt, observe=None, save_every=1):
    """Integrate dy/dt = f(t, y) from y(0) = y0 to t_end with the classical fixed-step Runge–Kutta method.

    y_{n+1} = y_n + dt (k₁ + 2k₂ + 2k₃ + k₄)/6,  k₁ = f(t, y), k₂ = f(t + dt/2, y + dt k₁/2),
    k₃ = f(t + dt/2, y + dt k₂/2), k₄ = f(t + dt, y + dt k₃); global error O(dt⁴).

    Is dt small enough? Halve it and compare: the difference between the solutions at dt and dt/2 is
    (1 − 2⁻⁴) ≈ 94 % of the error of the dt solution, so ``rk4_error(f, y0, t_end, dt, observe)`` is an
    estimate of that error; dt is fine when it is far below what you want to resolve (e.g. 1e-3 of the
    reconstruction error). A stiff mode of rate r needs dt·r ≲ 2.8 for stability at all.

    Parameters
    ----------
    f : callable (t, y) -> array like y
    y0 : array_like (any shape)
    t_end, dt : float, > 0; t_end must be a whole number of steps dt.
    observe : callable y -> array_like, optional
        What to record (default: a copy of y). Recording a small observable keeps memory small.
    save_every : int
        Record every this many steps (and always at t_end).

    Returns
    -------
    t : (n_saved,) times,  obs : (n_saved, ...) observe(y) at those times,  y_end : the state at t_end.
    """
    t_end, dt = _check_positive(t_end, "t_end"), _check_positive(dt, "dt")
    if isinstance(save_every, bool) or not isinstance(save_every, (int, np.integer)) or save_every < 1:
        raise ValueError(f"save_every must be a positive integer, got {save_every!r}")
    n_steps = int(round(t_end / dt))
    if n_steps < 1 or abs(n_steps * dt - t_end) > 1e-9 * t_end:
        raise ValueError(f"t_end must be a whole number of steps dt, got t_end={t_end}, dt={dt}")
    observe = (lambda y: y.copy()) if observe is None else observe
    if np.iscomplexobj(y0):
        raise TypeError("y0 must be real (its imaginary part would be dropped)")
    y = np.array(y0, dtype=np.float64)
    if not np.all(np.isfinite(y)):  # a NaN start is the caller's input, not a step-size problem
        raise ValueError("y0 must be finite")
    times, obs = [0.0], [np.asarray(observe(y))]
    for n in range(n_steps):
        t = n * dt  # from the step count, not accumulated: no drift of the time grid
        k1 = f(t, y)
        k2 = f(t + dt / 2, y + (dt / 2) * k1)
        k3 = f(t + dt / 2, y + (dt / 2) * k2)
        k4 = f(t + dt, y + dt * k3)
        y = y + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        if not np.all(np.isfinite(y)):
            raise FloatingPointError(
                f"rk4: the solution became non-finite at t = {(n + 1) * dt:g} (step {n + 1} of {n_steps}) from a "
                f"finite start: either dt = {dt} is too large for its fastest mode (halve it: if the blow-up moves "
                "later, that is it) or the dynamics themselves diverge (e.g. too large a learning rate)")
        if (n + 1) % save_every == 0 or n + 1 == n_steps:
            times.append((n + 1) * dt)
            obs.append(np.asarray(observe(y)))
    return np.array(times), np.array(obs), y


def rk4_error(f, y0, t_end, dt, observe=None, save_every=1):
    """Estimated error of ``rk4(f, y0, t_end, dt, observe)``: max |obs_dt − obs_{dt/2}| over the recorded times.

    The dt/2 solve records every 2·save_every steps, so both record at the same times. For RK4 the
    difference is ≈ 15/16 of the dt solution's error (see ``rk4``).
    """
    _, coarse, _ = rk4(f, y0, t_end, dt, observe, save_every)
    _, fine, _ = rk4(f, y0, t_end, dt / 2, observe, 2 * save_every)
    return float(np.max(np.abs(coarse - fine)))
