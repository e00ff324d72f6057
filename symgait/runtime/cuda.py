"""The CUDA backends: the model's CUDA launchers (:mod:`symgait.runtime.launchers`) on device arrays.

:class:`CudaKernels` (``backend="cuda"``) takes any CUDA array kind: PyTorch CUDA tensors, CuPy
arrays, Numba device arrays or any other object with ``__cuda_array_interface__``. Device inputs are
viewed without a copy and the kernels run on the producer's current stream, so they are ordered
after the work that made the inputs and before the work that reads the outputs, with no host
synchronization for the ordering. Outputs are allocated by the same library, on the same device:
torch in -> torch out, cupy in -> cupy out, Numba device array (or any other CUDA array) in -> Numba
device array out. The first input that lives on the GPU (normally ``q``) decides. Host inputs
(numpy arrays, CPU tensors, lists) are copied to the device; when every input is on the host the
outputs are copied back and come back as numpy (torch if a CPU tensor came in), exactly like
``backend="cpu"``. In Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1`` set before numba is
imported, no GPU needed) that is how numpy inputs work; the simulator's own device arrays
(``numba.cuda.to_device``) go in and come out as device arrays, as on a GPU. PyTorch CUDA tensors
and CuPy arrays need a real GPU.

Validation is the CPU path's (:mod:`symgait.runtime.arrays`: the same checks, the same messages):
dtypes and shapes on the metadata; NaN/inf by a small kernel per device input whose flags come back
in one device-to-host copy per call (a host synchronization); parameter plausibility
(``check_parameters``) on a host copy of ``p`` (a second small copy when ``p`` is on the GPU); for a
model with quaternion joints, the quaternions' norms on a host copy of ``q``.
When several inputs are bad at once, a NaN in a device input is reported after the dtype/shape
errors of the other inputs.

:class:`TorchCudaKernels` launches on torch tensors directly, without those checks and copies: the
physics layers (:mod:`symgait.layers`) check their inputs once per call and call it per stage.

Views, streams, allocation, the NaN/inf kernel and the launch configuration are
:mod:`symgait.runtime.cuda_arrays`'s; it imports ``numba.cuda``, so it is imported on first use
(``import symgait`` does not pay for it).
"""
from __future__ import annotations

from .arrays import batch_input, check_batch_meta, check_param_meta, param_input, to_numpy, wrap
from .kernels import Kernels


class CudaKernels(Kernels, backend="cuda"):
    """The kernels on the GPU of the inputs, checked like the CPU kernels (see the module doc)."""

    launchers = "cuda"

    def __init__(self, model, backend: str | None = None, generated=None, check_parameters: bool = True):
        from .cuda_arrays import require_cuda
        require_cuda()
        super().__init__(model, backend, generated, check_parameters)

    def cuda_module(self):
        """The model's CUDA launchers."""
        return self.module

    def launch(self, name: str, args: dict, out_shapes: dict) -> dict:
        from . import cuda_arrays as ca
        sig = self.signature(name)
        kinds = {a: ca.array_kind(args[a]) for a, _ in sig["inputs"]}
        on_gpu = {a: args[a] for a in kinds if kinds[a] != "host"}
        with ca.device_context(on_gpu, kinds):
            lead = next(iter(on_gpu), None)
            lead_kind = kinds[lead] if lead else "host"
            lead_x = args[lead] if lead else None
            alloc = ca.Alloc(lead_kind, lead_x, ca.stream_for(lead_kind, lead_x))
            keep = []  # owners of temporaries (torch / cupy memory stays reserved while they live)
            views, batch, host_kinds = self._inputs(ca, sig, args, kinds, alloc, keep)
            outs = {a: alloc.empty((batch, size), views["q"].dtype) for a, size in sig["outputs"]}
            shape, transposed = ca.work_layout(batch, sig["work"])
            owner, work = alloc.empty(shape, views["q"].dtype)
            keep.append(owner)
            call = [views[a] for a, _ in sig["inputs"]] + [outs[a][1] for a, _ in sig["outputs"]]
            call.append(work.T if transposed else work)
            if batch > 0:
                blocks, threads = ca.launch_config(batch)
                getattr(self.module, name)[blocks, threads, alloc.stream](*call)
            res = {}
            for a, shp in out_shapes.items():  # in the lead input's type
                owner, v = outs[a]
                shape = (batch,) + tuple(shp)
                if lead_kind in ("torch", "cupy"):
                    res[a] = owner.reshape(shape)
                elif lead_kind in ("numba", "cai"):
                    res[a] = v.reshape(*shape)
                else:
                    host = ca.to_host_view(v, alloc.stream).reshape(shape)
                    res[a] = wrap("torch" if "torch" in host_kinds else "numpy", host)
            return res

    def _inputs(self, ca, sig, args, kinds, alloc, keep):
        """Checked device views of the inputs by name, the batch size and the kinds of the host inputs
        ('numpy' / 'torch'); host inputs are uploaded, device ones viewed (copied if not C-contiguous)."""
        views, checks, host_kinds = {}, [], set()
        dtype = batch = None
        for a, size in sig["inputs"]:
            if a == "p":
                continue
            trailing = self.argument_shapes[a]
            if kinds[a] == "host":
                h, hk = to_numpy(a, args[a])
                host_kinds.add(hk)
                arr = batch_input(a, h, size, trailing, dtype if a != "q" else h.dtype, batch if a != "q" else None)
                owner, v = alloc.upload(arr)
                keep.append(owner)
            else:
                v = ca.view(a, args[a], kinds[a])
                check_batch_meta(a, v.dtype, tuple(v.shape), trailing, dtype if a != "q" else v.dtype,
                                 batch if a != "q" else None)
                v = ca.contiguous(v, alloc, keep)
                v = v.reshape(v.shape[0], size)
                checks.append((a, v, size))
            if a == "q":
                dtype, batch = v.dtype, v.shape[0]
                if self.space.joints:  # unit quaternions, checked on a host copy of q
                    self.space.check(arr if kinds[a] == "host" else ca.host_copy(args[a], kinds[a], v, alloc, keep))
            views[a] = v
        # p: checked on the host like the CPU path (the plausibility check needs its values anyway), then uploaded
        if kinds["p"] == "host":
            praw, _ = to_numpy("p", args["p"])
        else:
            pv = ca.view("p", args["p"], kinds["p"])
            check_param_meta(pv.dtype, tuple(pv.shape), self.n_parameters, batch)
            praw = ca.host_copy(args["p"], kinds["p"], pv, alloc, keep)
        p_host = param_input(praw, self.n_parameters, dtype, batch)
        ca.check_finite(checks, alloc, keep, alloc.stream)
        self.check_p(p_host)
        owner, views["p"] = alloc.upload(p_host)
        keep.append(owner)
        return views, batch, host_kinds


class TorchCudaKernels(CudaKernels):
    """The public kernel methods of :class:`Kernels` (same arguments, same output dicts) launched on
    torch tensors through the model's generated CUDA launchers, without the per-call input checks
    and host copies of :class:`CudaKernels`: every input must be a finite float tensor of the right
    shape on the lead input's device, in the lead input's dtype (the layers guarantee it). Outputs
    are torch tensors on that device, from PyTorch's caching allocator; the launch runs on
    ``torch.cuda.current_stream()``. In the simulator the tensors are CPU tensors, viewed zero-copy
    as simulated device arrays."""

    def __init__(self, model, backend: str | None = None, generated=None):
        super().__init__(model, backend, generated, check_parameters=False)

    def launch(self, name: str, args: dict, out_shapes: dict) -> dict:
        import torch

        from . import cuda_arrays as ca
        sig = self.signature(name)
        lead = args["q"]
        B, dtype, device = lead.shape[0], lead.dtype, lead.device
        ins = []
        for a, size in sig["inputs"]:
            x = args[a].detach()
            ins.append((x.reshape(1, size) if x.dim() == 1 else x) if a == "p" else x.reshape(B, size).contiguous())
        outs = {a: torch.empty((B, size), dtype=dtype, device=device) for a, size in sig["outputs"]}
        shape, transposed = ca.work_layout(B, sig["work"])
        work = torch.empty(shape, dtype=dtype, device=device)
        work = work.t() if transposed else work
        if B > 0:
            with ca.gpu(device.index or 0):
                call = [ca.torch_view(x.contiguous()) for x in ins]
                call += [ca.torch_view(outs[a]) for a, _ in sig["outputs"]] + [ca.torch_view(work)]
                blocks, threads = ca.launch_config(B)
                getattr(self.module, name)[blocks, threads, ca.stream_for("torch", lead)](*call)
        return {a: outs[a].reshape((B,) + tuple(shp)) for a, shp in out_shapes.items()}
