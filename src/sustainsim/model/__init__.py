"""The school-finance model: drivers, realized inputs and the year-stepping budget engine.

``drivers/`` (pure functions from parameters and uniforms to paths); ``walk`` (which lines
a school runs, and when); ``builders`` (one per line kind: a config line in, a typed line
out) and ``inputs`` (a config and a chunk of draws in, :class:`Inputs` out); ``lines`` and
``schools`` (the typed inputs: frozen dataclasses of floats and numpy arrays); ``engine``
(typed inputs in, budgets out; no I/O, no randomness, no pydantic objects).
"""

from sustainsim.model.inputs import sample_inputs
from sustainsim.model.schools import Inputs

__all__ = ["Inputs", "sample_inputs"]
