"""One aliasing mechanism for every Keras import path: an import hook.

``AliasFinder`` answers imports of some package names with copies of
``backprop_lab``'s own modules.  ``backprop_lab.compat.tf`` installs one for
``backprop_lab.compat.tf.keras.*``; ``backprop-lab run`` installs one, for the
length of a script, for ``keras.*``, ``tensorflow.*`` and friends.  An alias
module holds the same objects as its source (``keras.layers.Dense`` *is*
``backprop_lab.keras.layers.Dense``); only its name, and the name its
``NotSupported`` messages use (``tf.keras.layers.Conv2D``), differ.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

from ._names import UNSUPPORTED, refuse_missing


class ModuleNotSupported(NotImplementedError, ModuleNotFoundError):
    """A Keras or TensorFlow module backprop_lab does not provide.

    A NotImplementedError naming the module, and a ModuleNotFoundError, so code
    that probes for an optional module (``try: import ... except ImportError``)
    still works.
    """


def _match(name: str, prefixes) -> str | None:
    """The longest of ``prefixes`` that is ``name`` or a package above it."""
    found = [p for p in prefixes if name == p or name.startswith(p + ".")]
    return max(found, key=len) if found else None


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder that makes ``alias[.sub]`` a copy of ``target[.sub]``.

    Parameters
    ----------
    aliases : dict of str to (str, str)
        ``{alias: (target, shown)}``: importing ``alias.x`` gives a copy of the
        module ``target.x`` whose missing names are reported as ``shown.x.name``.
    refused : dict of str to str, optional
        ``{name: reason}``: importing ``name`` or below raises ModuleNotSupported.
    """

    def __init__(self, aliases: dict[str, tuple[str, str]], refused: dict[str, str] | None = None):
        self.aliases = dict(aliases)
        self.refused = dict(refused or {})
        self._saved: dict = {}

    # ------------------------------------------------------------ the import protocol
    def find_spec(self, fullname, path=None, target=None):
        refused = _match(fullname, self.refused)
        if refused is not None:
            raise ModuleNotSupported(f"{fullname} {UNSUPPORTED}; {self.refused[refused]}")
        prefix = _match(fullname, self.aliases)
        if prefix is None:
            return None
        source_prefix, shown_prefix = self.aliases[prefix]
        rest = fullname[len(prefix) :]
        shown = shown_prefix + rest
        try:
            source = importlib.import_module(source_prefix + rest)
        except ModuleNotFoundError as exc:
            if exc.name != source_prefix + rest:
                raise  # a dependency is missing, not the Keras module
            raise ModuleNotSupported(self._missing_module(source_prefix + rest, shown)) from None
        # Every alias is a package, so `import keras.layers.experimental` reaches
        # this finder (and its one-line refusal) instead of "not a package".
        spec = importlib.util.spec_from_loader(fullname, self, is_package=True)
        spec.loader_state = (source, shown)
        return spec

    @staticmethod
    def _missing_module(name: str, shown: str) -> str:
        if shown.endswith(".src") or ".src." in shown:
            return f"{shown} {UNSUPPORTED}: it is Keras's private package; import the public names"
        parent = sys.modules.get(name.rsplit(".", 1)[0])
        modules = [
            n for n in getattr(parent, "__all__", ()) if type(getattr(parent, n)) is type(sys)
        ]
        where = shown.rsplit(".", 1)[0]
        return f"{shown} {UNSUPPORTED}" + (
            f"; {where} has the modules: {', '.join(modules)}" if modules else ""
        )

    def create_module(self, spec):
        return None  # a plain module

    def exec_module(self, module) -> None:
        source, shown = module.__spec__.loader_state
        public = list(getattr(source, "__all__", ()))
        for name in public:
            value = getattr(source, name)
            inner = getattr(value, "__name__", "")
            if type(value) is type(sys) and inner.startswith(source.__name__ + "."):
                # a submodule: its alias, so keras.layers is the module `keras.layers`
                value = importlib.import_module(module.__name__ + inner[len(source.__name__) :])
            setattr(module, name, value)
        module.__all__ = public
        module.__doc__ = source.__doc__
        if hasattr(source, "__version__"):
            module.__version__ = source.__version__
        module.__getattr__ = refuse_missing(shown, public)

    # ------------------------------------------------------------ installing
    def _covers(self, name: str) -> bool:
        return _match(name, [*self.aliases, *self.refused]) is not None

    def install(self) -> None:
        """Answer imports from now on; modules already imported under these names
        (a real Keras) are put aside until ``uninstall``."""
        if self in sys.meta_path:
            return
        self._saved = {k: sys.modules.pop(k) for k in list(sys.modules) if self._covers(k)}
        sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Stop answering, forget the alias modules, and put back what ``install`` set aside."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in [k for k in sys.modules if self._covers(k)]:
            del sys.modules[name]
        sys.modules.update(self._saved)
        self._saved = {}
