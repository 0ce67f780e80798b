"""The school-finance model: drivers, realized inputs and the year-stepping budget engine.

``drivers/`` (pure functions from parameters and uniforms to paths), ``inputs`` (a config and a
chunk of draws in, typed arrays out) and ``engine`` (inputs in, budgets out; no I/O, no
randomness, no pydantic objects).
"""

from sustainsim.model.inputs import Inputs, sample_inputs

__all__ = ["Inputs", "sample_inputs"]
