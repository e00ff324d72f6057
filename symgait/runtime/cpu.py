"""``backend="cpu"``: the model's CPU launchers (Numba, :mod:`symgait.runtime.launchers`) on numpy
arrays or CPU torch tensors, which are viewed as numpy without a copy; results come back in the
type that came in (torch if any input was a tensor).

Inputs are checked and converted by :mod:`symgait.runtime.arrays`. The threading layer is chosen
once (:func:`symgait.runtime.threads.select`), and each launch runs on the calling thread (the
``<kernel>_serial`` launcher) or in parallel over the batch, by :func:`~symgait.runtime.threads.parallel`.
"""
from __future__ import annotations

import numpy as np

from . import threads
from .arrays import batch_input, check_outputs, param_input, to_numpy, wrap
from .kernels import Kernels
from .llvm_ir import BATCH_WIDTH


class CpuKernels(Kernels, backend="cpu"):
    """The kernels on the CPU: numpy / CPU torch in and out, float32 or float64."""

    def __init__(self, model, backend: str | None = None, generated=None, check_parameters: bool = True):
        super().__init__(model, backend, generated, check_parameters)
        threads.select()

    def launch(self, name: str, args: dict, out_shapes: dict) -> dict:
        sig = self.signature(name)
        arrays, kinds = {}, set()
        q, kind = to_numpy("q", args["q"])
        kinds.add(kind)
        dtype = q.dtype
        batch = q.shape[0] if q.ndim >= 1 else None
        for a, size in sig["inputs"]:
            if a == "p":
                continue
            x, kind = to_numpy(a, args[a])
            kinds.add(kind)
            arrays[a] = batch_input(a, x, size, self.argument_shapes[a], dtype, batch if a != "q" else None)
            if a == "q":
                dtype, batch = arrays[a].dtype, arrays[a].shape[0]
                if self.space.joints:
                    self.space.check(arrays[a])
        praw, _ = to_numpy("p", args["p"])
        p = param_input(praw, self.n_parameters, dtype, batch)
        self.check_p(p)
        arrays["p"] = p
        outs = {a: np.empty((batch, size), dtype=dtype) for a, size in sig["outputs"]}
        call = [arrays[a] for a, _ in sig["inputs"]] + [outs[a] for a, _ in sig["outputs"]]
        call.append(np.empty((batch, sig["work"]), dtype=dtype))
        if threads.parallel(batch, self.manifest["operations"][name]):
            getattr(self.module, name)(*call)
        elif dtype == np.float64 and batch >= BATCH_WIDTH and hasattr(self.module, f"{name}_block"):
            scratch = np.empty(BATCH_WIDTH * self.signature("inverse_dynamics_derivatives")["work"])
            getattr(self.module, f"{name}_block")(*call, scratch)  # blocks of samples by vector instructions
        else:
            getattr(self.module, f"{name}_serial")(*call)
        check_outputs(name, outs, arrays)
        kind = "torch" if "torch" in kinds else "numpy"
        return {a: wrap(kind, outs[a].reshape((batch,) + shp)) for a, shp in out_shapes.items()}
