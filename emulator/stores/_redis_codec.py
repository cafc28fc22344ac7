"""Records as bytes for a store outside this process: pickles that load only the emulator's own types.

A `Job` holds values that are not plain data (its judge, its parsed dataset), so records are
pickled rather than turned into JSON; its add-on data (`Job.extensions`), JSON-ready values, goes
with it whatever add-on made the job. Loading is restricted: a pickle may name the emulator's own
classes and a short list of standard types, nothing else, so bytes written into a shared store by
someone else cannot make an emulator process call arbitrary functions. Datasets are stored apart,
once per content (`Dataset` values are shared by every job made from the same rows): a pickled job
refers to its dataset by a digest of its content.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Callable
from typing import Any

from ..engine._datasets import Dataset

PACKAGE = "together_eval_emulator."

# Standard types a record may contain (and the helper pickle uses to rebuild plain objects).
ALLOWED: dict[str, frozenset[str]] = {
    "builtins": frozenset({"set", "frozenset", "tuple", "list", "dict", "bytes", "bytearray", "int", "float", "str"}),
    "copyreg": frozenset({"_reconstructor"}),
    "collections": frozenset({"OrderedDict", "deque"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "decimal": frozenset({"Decimal"}),
    "pydantic_core._pydantic_core": frozenset({"Url"}),
}


class ForbiddenPickle(pickle.UnpicklingError):
    """A stored value names something other than the emulator's records."""


def dataset_digest(dataset: Dataset) -> str:
    """A dataset's key among the stored datasets: a digest of everything it holds."""
    shape = f"{dataset.fingerprint}\x1f{dataset.columns!r}\x1f{dataset.lines is None}".encode()
    return hashlib.blake2b(shape, digest_size=16).hexdigest()


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, found: dict[str, Dataset], root: Any) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._found = found
        self._root = root  # a dataset pickled by itself is pickled whole

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is Dataset and obj is not self._root:
            digest = dataset_digest(obj)
            self._found[digest] = obj
            return ("dataset", digest)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, dataset: Callable[[str], Dataset]) -> None:
        super().__init__(file)
        self._dataset = dataset

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(PACKAGE) or name in ALLOWED.get(module, ()):
            found = super().find_class(module, name)
            if isinstance(found, type) or module == "copyreg":
                return found
        raise ForbiddenPickle(f"a stored value names {module}.{name}, which is not an emulator record type")

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "dataset":
            return self._dataset(str(pid[1]))
        raise ForbiddenPickle(f"unknown reference in a stored value: {pid!r}")


def dumps(value: Any, datasets: dict[str, Dataset] | None = None) -> bytes:
    """`value` as bytes. Each dataset inside is left out and added to `datasets` by digest (it must be
    stored apart); without `datasets`, a value holding one is refused."""
    found: dict[str, Dataset] = {}
    buffer = io.BytesIO()
    _Pickler(buffer, found, value).dump(value)
    if found and datasets is None:
        raise ValueError("this value holds a dataset; pass `datasets` to collect it")
    if datasets is not None:
        datasets.update(found)
    return buffer.getvalue()


def _no_dataset(digest: str) -> Dataset:
    raise ForbiddenPickle(f"a stored value refers to dataset {digest} where none may be")


def loads(data: bytes, dataset: Callable[[str], Dataset] = _no_dataset) -> Any:
    """A value `dumps` made; `dataset` gives a referred dataset by its digest."""
    return _Unpickler(io.BytesIO(data), dataset).load()
