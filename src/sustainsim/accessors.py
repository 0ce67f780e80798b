"""``ds.inputs``: the per-draw inputs of a results Dataset by their canonical names.

Importing :mod:`sustainsim` registers the accessor. Dotted names need no string
gymnastics:

- ``ds.inputs["district.growth.salary"]``: a variable by its name (a DataArray);
- ``ds.inputs.district.growth.salary``: the same by nested attribute access;
- ``ds.inputs["district.cuts.event"]`` (or ``ds.inputs.district.cuts.event``): every
  variable of an input drawn each year, or under a prefix, as a group (``.count``,
  ``.table()``, ``.to_dataset()``, iteration over the names);
- ``ds.inputs.table()``: a DataFrame of draws x inputs (labels as columns on request);
  ``ds.inputs.info()``: one row per variable with its ``input``, ``label`` and ``path``.

Names follow :mod:`sustainsim.model.names`: every name :meth:`sustainsim.config.Spec.inputs`
lists works (a sampled value is its own variable; a process gives its summaries). An
old-style name (``cuts.count``, ``growth.salary``) raises a KeyError naming the canonical
one.

Examples
--------
>>> import sustainsim
>>> spec = sustainsim.load_config(sustainsim.example_config("reference/ref10.toml"))
>>> ds = sustainsim.simulate(spec, draws=100, seed=1)
>>> ds.inputs.schools.ref.revenue.grant.end.attrs["input"]
'schools.ref.revenue.grant.end'
>>> list(ds.inputs["district.cuts.event"])
['district.cuts.event.count', 'district.cuts.cumulative']
>>> int(ds.inputs.district.cuts.event.count.max()) <= 10
True
>>> ds.inputs.table().shape
(100, 6)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import pandas as pd
import xarray as xr

from sustainsim.results import input_names

__all__ = ["InputGroup", "InputsAccessor"]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _subsequence(old: list[str], new: list[str]) -> bool:
    it = iter(new)
    return all(part in it for part in old)


class _Base:
    _ds: xr.Dataset

    def _names(self) -> list[str]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def table(self, *, labels: bool = False, varying: bool = False) -> pd.DataFrame:
        """The variables as a DataFrame, one row per draw (per scenario and draw).

        Parameters
        ----------
        labels : bool
            Name the columns by their ``label`` attrs instead of their names.
        varying : bool
            Leave out the variables that are the same in every draw.
        """
        names = self._names()
        if varying:
            names = [k for k in names if float(self._ds[k].std()) > 0]
        frame = self._ds[names].reset_coords(drop=True).to_dataframe()[names]
        if labels:
            frame.columns = [str(self._ds[k].attrs.get("label", k)) for k in names]
        return frame

    def to_dataset(self) -> xr.Dataset:
        """The variables as a Dataset."""
        return self._ds[self._names()]


class InputGroup(_Base):
    """The per-draw variables of one input (or under one name prefix).

    Attribute access goes one name part deeper: ``group.count``.
    """

    def __init__(self, acc: InputsAccessor, prefix: str, names: list[str]):
        self._acc, self._ds, self._prefix, self._members = acc, acc._ds, prefix, names

    def _names(self) -> list[str]:
        return list(self._members)

    def __getitem__(self, name: str) -> xr.DataArray | InputGroup:
        return self._acc[f"{self._prefix}.{name}"]

    def __getattr__(self, part: str) -> xr.DataArray | InputGroup:
        if part.startswith("_"):
            raise AttributeError(part)
        try:
            return self._acc[f"{self._prefix}.{part}"]
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __dir__(self) -> list[str]:
        n = len(self._prefix.split("."))
        parts = {
            k.split(".")[n] for k in self._members if _under(k, self._prefix) and k != self._prefix
        }
        return sorted(parts | {"table", "to_dataset"})

    def __repr__(self) -> str:
        return f"<inputs {self._prefix}: {', '.join(self._members)}>"


@xr.register_dataset_accessor("inputs")
class InputsAccessor(_Base):
    """The per-draw inputs of a results Dataset (``ds.inputs``), by canonical name."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def _names(self) -> list[str]:
        return input_names(self._ds)

    @property
    def names(self) -> list[str]:
        """The names of the per-draw input variables, in Dataset order."""
        return self._names()

    def info(self) -> pd.DataFrame:
        """One row per variable: ``input``, ``label``, ``path``, ``units``, ``long_name``."""
        cols = ["input", "label", "path", "units", "long_name"]
        rows = [{c: str(self._ds[k].attrs.get(c, "")) for c in cols} for k in self._names()]
        return pd.DataFrame(rows, index=pd.Index(self._names(), name="name"), columns=cols)

    def of(self, name: str) -> list[str]:
        """The variables of canonical input ``name``: its own, its summaries, under it."""
        names = self._names()
        return [k for k in names if _under(k, name) or self._ds[k].attrs.get("input") == name]

    def __getitem__(self, name: str) -> xr.DataArray | InputGroup:
        names = self._names()
        if name in names:
            return self._ds[name]
        members = self.of(name)
        if members:
            return InputGroup(self, name, members)
        raise KeyError(self._missing(name, names))

    def __getattr__(self, part: str) -> xr.DataArray | InputGroup:
        if part.startswith("_"):
            raise AttributeError(part)
        try:
            return self[part]
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __dir__(self) -> list[str]:
        return sorted({k.split(".")[0] for k in self._names()} | {"info", "names", "of", "table"})

    def __repr__(self) -> str:
        return f"<inputs: {', '.join(self._names())}>"

    @staticmethod
    def _missing(name: str, names: list[str]) -> str:
        old = name.split(".")
        hits = [k for k in names if _subsequence(old, k.split("."))]
        hits = hits or difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {' or '.join(map(repr, hits[:3]))}?" if hits else ""
        return (
            f"{name!r} is not an input of these results{hint} (names: ds.inputs.names; "
            "sustainsim.model.names says how they are made)"
        )
