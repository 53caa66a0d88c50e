"""torch's native code, loaded without holding the GIL, for whoever imports torch in a worker
thread while an event loop runs in another (the workbench loading a trained Lens).

Importing `torch._C` makes CPython dlopen it, and with it libtorch_cpu (hundreds of MB whose
static initializers register thousands of operators), while holding the GIL: about 0.2 s on
the project's 2-core machine in which no other thread runs, however the import was put in a
thread (ctypes.CDLL holds the GIL too). A foreign function called through ctypes runs with the
GIL released, so calling libc's own dlopen on the extension file first does that work while
the loop goes on; the import then finds the library loaded and only runs its init
(BENCHMARKS.md, "the event loop while long work runs"). Imports no torch itself.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import sys
from pathlib import Path


def torch_extension() -> Path | None:
    """The file of `torch._C`, found without importing torch; None without torch."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = Path(folder) / f"_C{suffix}"
            if candidate.is_file():
                return candidate
    return None


def preload_torch() -> bool:
    """dlopen `torch._C` (and the libraries it links) with the GIL released, with the flags
    the import will use, so the import's own dlopen finds it loaded. Best effort: False where
    it cannot (not Linux, no torch, a failed dlopen), and the import then does it all. Call it
    from the thread that will import torch; the library stays loaded."""
    if sys.platform != "linux" or "torch" in sys.modules:
        return False
    path = torch_extension()
    if path is None:
        return False
    libc = ctypes.CDLL(None)
    dlopen = libc.dlopen
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return bool(dlopen(str(path).encode(), sys.getdlopenflags()))
