"""Sabilulungan's periodic jobs (the service contract's `tasks.py`).

Sabilulungan runs none today, by design: every deadline it knows is evaluated when a file is read
or acted on, against `Context.now()` (an LPJ submitted after the rule set's deadline is marked late
when it is submitted; a payment outside the fiscal year is refused when it is attempted), so
nothing has to wake up on a timer. The audit-chain checkpoints are the shared plumbing's own job.

A job added here is a `shared.app.PeriodicTask` whose body builds the context with
`dependencies.context_of(app.state)` and takes the single-replica lock, as HAYU's tasks do; list it
in `PERIODIC` and pass `periodic=tasks.PERIODIC` in `main.build_spec`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.app import PeriodicTask

PERIODIC: Sequence[PeriodicTask] = ()
