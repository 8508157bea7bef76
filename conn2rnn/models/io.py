"""Save and load :class:`~conn2rnn.models.biornn.BioRNN` models, one network or an ensemble.

One file holds everything needed to rebuild the model bit for bit: the weights,
masks and time constants (state dict), the noise generator states, the
hyperparameters, and the provenance -- the graph's arrays, the regimes (as
dicts) with their resolved arrays, and the task spec. The file is a
``torch.save`` of a plain dict of tensors, strings and lists with the metadata
as JSON text, read back with ``torch.load(weights_only=True)``: loading never
executes pickled code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from conn2rnn.graph import BrainGraph
from conn2rnn.regimes import Regime, RegimeArrays
from .._io import atomic_file
from .biornn import BioRNN

__all__ = ["save_biornn", "load_biornn"]

_FORMAT = "conn2rnn-biornn"
_VERSION = 1
_GRAPH_ARRAYS = ("coords", "gradient", "connectome", "fc", "sphere_coords")
_REGIME_ARRAYS = ("input_nodes", "output_nodes", "distance", "recurrent_mask")


def _tensor(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(np.array(a))


def _graph_payload(graph) -> tuple[dict[str, Any], dict[str, Any]]:
    arrays = {name: _tensor(getattr(graph, name)) for name in _GRAPH_ARRAYS}
    arrays["maps"] = {key: _tensor(values) for key, values in graph.maps.items()}
    meta = {
        "names": list(graph.names), "hemispheres": [str(h) for h in graph.hemispheres],
        "networks": [str(n) for n in graph.networks],
        "metadata": json.loads(json.dumps(dict(graph.metadata), default=str)),
    }
    return arrays, meta


def _graph_from_payload(arrays: dict[str, Any], meta: dict[str, Any]):
    def arr(t):
        return None if t is None else t.numpy()

    return BrainGraph.from_arrays(
        meta["names"], arr(arrays["coords"]), hemispheres=meta["hemispheres"], networks=meta["networks"],
        gradient=arr(arrays["gradient"]), maps={k: arr(v) for k, v in arrays["maps"].items()},
        connectome=arr(arrays["connectome"]), fc=arr(arrays["fc"]),
        sphere_coords=arr(arrays["sphere_coords"]), metadata=meta["metadata"],
    )


def save_biornn(model: BioRNN, path: str | os.PathLike) -> Path:
    """Write a model (any K) with its provenance to one file, atomically.

    Parameters
    ----------
    model : BioRNN
    path : path-like
        Target file (conventionally ``*.pt``); parent folders are created.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if not isinstance(model, BioRNN):
        raise TypeError(f"model must be a BioRNN; got {type(model).__name__}")
    path = Path(path)
    meta: dict[str, Any] = {"version": _VERSION, "config": model.config, "task_spec": model.task_spec,
                            "regimes": None, "regime_array_index": None, "graph": None}
    payload: dict[str, Any] = {
        "state": {name: t.detach().clone() for name, t in model.state_dict().items()},
        "noise": model.noise_state(),
        "graph": None,
        "regime_arrays": None,
    }
    if model.graph is not None:
        payload["graph"], meta["graph"] = _graph_payload(model.graph)
    if model.regimes is not None:
        meta["regimes"] = [r.to_dict() for r in model.regimes]
        unique: dict[int, int] = {}
        for a in model.regime_arrays:
            unique.setdefault(id(a), len(unique))
        meta["regime_array_index"] = [unique[id(a)] for a in model.regime_arrays]
        firsts = {unique[id(a)]: a for a in model.regime_arrays}
        payload["regime_arrays"] = [
            {"n_nodes": int(firsts[i].n_nodes), **{name: _tensor(getattr(firsts[i], name)) for name in _REGIME_ARRAYS}}
            for i in range(len(firsts))
        ]
    with atomic_file(path) as fh:
        torch.save({"format": _FORMAT, "meta": json.dumps(meta), **payload}, fh)
    return path


def load_biornn(path: str | os.PathLike) -> BioRNN:
    """Read a model written by :func:`save_biornn`.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    BioRNN
        In eval mode, with ``graph``, ``regimes``, ``regime_arrays`` and
        ``task_spec`` restored; its outputs equal the saved model's bit for bit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, a text file, another program's file: torch's errors
        why = (str(exc).strip().splitlines() or [""])[0][:120]
        raise ValueError(f"{path} is not a conn2rnn model file ({type(exc).__name__}: {why}); "
                         "pass a file written by save_biornn") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a conn2rnn BioRNN file (written by save_biornn)")
    try:
        meta = json.loads(data["meta"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a conn2rnn model file (its metadata cannot be read: "
                         f"{type(exc).__name__})") from None
    if meta["version"] > _VERSION:
        raise ValueError(f"{path} has format version {meta['version']}; this conn2rnn reads up to {_VERSION}")
    model = BioRNN._from_state(meta["config"], data["state"])
    model.set_noise_state(data["noise"])
    model.eval()
    model.task_spec = meta["task_spec"]
    if meta["graph"] is not None:
        model.graph = _graph_from_payload(data["graph"], meta["graph"])
    if meta["regimes"] is not None:
        resolved = [
            RegimeArrays(int(d["n_nodes"]), *(None if d[name] is None else _readonly(d[name].numpy())
                                              for name in _REGIME_ARRAYS))
            for d in data["regime_arrays"]
        ]
        model.regimes = tuple(Regime.from_dict(r) for r in meta["regimes"])
        model.regime_arrays = tuple(resolved[i] for i in meta["regime_array_index"])
    return model


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a
