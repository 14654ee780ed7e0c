"""How a Keras name is handed out: engine classes behind Keras's constructor rules.

``KerasClass`` stands for an engine class under its Keras name.  Calling it
builds the engine's own object, so ``isinstance`` and subclassing work as with
the class itself, but a keyword the engine does not take (``Dense(lora_rank=4)``)
raises ``NotImplementedError`` naming it instead of a TypeError.

``refuse_missing`` is the ``__getattr__`` (PEP 562) of every namespace module:
a name the module does not provide raises ``NotSupported`` naming it and
listing what the module does provide.
"""

from __future__ import annotations

import dis
import inspect
import sys

from ..engine.model import NotSupported

UNSUPPORTED = "is not supported by backprop_lab"


class KerasClass:
    """An engine class under its Keras name (see the module docstring).

    Parameters
    ----------
    cls : type
        The engine class whose objects calling this builds.
    name : str, optional
        The Keras name, if it differs from ``cls.__name__``.
    """

    def __init__(self, cls: type, name: str | None = None):
        self.cls = cls
        self.__name__ = self.__qualname__ = name or cls.__name__
        self.__doc__ = cls.__doc__
        params = inspect.signature(cls).parameters.values()
        self._any_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
        self._keywords = [
            p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def __call__(self, *args, **kwargs):
        unknown = [key for key in kwargs if key not in self._keywords]
        if unknown and not self._any_keyword:
            raise NotImplementedError(
                f"{self.__name__}({unknown[0]}=...) {UNSUPPORTED}; "
                f"{self.__name__} takes: {', '.join(self._keywords) or 'no options'}"
            )
        return self.cls(*args, **kwargs)

    # isinstance(x, keras.layers.Dense) and class MyLayer(keras.layers.Dense) see the class.
    def __instancecheck__(self, obj) -> bool:
        return isinstance(obj, self.cls)

    def __subclasscheck__(self, cls) -> bool:
        return issubclass(cls, self.cls)

    def __mro_entries__(self, bases):
        return (self.cls,)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.cls, name)

    def __repr__(self) -> str:
        return f"<Keras name {self.__name__} for {self.cls.__module__}.{self.cls.__qualname__}>"


class Refused:
    """A Keras name that is refused when used: called, or subclassed.

    ``keras.Model`` is one: ``keras.Model(inputs, outputs)`` and
    ``class Net(keras.Model)`` both raise ``NotImplementedError`` with ``reason``.
    """

    def __init__(self, path: str, reason: str):
        self.__name__ = self.__qualname__ = path.rsplit(".", 1)[-1]
        self._message = f"{path} {UNSUPPORTED}; {reason}"

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(self._message)

    def __mro_entries__(self, bases):
        raise NotImplementedError(self._message)

    def __repr__(self) -> str:
        return f"<refused Keras name: {self._message}>"


class ImportNotSupported(NotImplementedError, ImportError):
    """``from keras.layers import Conv2D`` of a name backprop_lab does not provide.

    Not an AttributeError, which the import statement would turn into a bare
    "cannot import name"; an ImportError, so ``try: from ... import X except
    ImportError`` (code written for several versions) still works.
    """


_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def _importing(frame) -> bool:
    """Whether ``frame`` is executing ``from module import name`` right now."""
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_FROM


def refuse_missing(path: str, provided) -> callable:
    """The module ``__getattr__`` of the namespace ``path`` (e.g. ``"keras.layers"``).

    Dunder names stay plain AttributeErrors, so ``copy``, ``pickle`` and
    ``inspect`` probe modules as usual; ``NotSupported`` is an AttributeError
    too, so ``hasattr(keras.layers, "Conv2D")`` answers False.  Inside a
    ``from ... import`` statement the error is ``ImportNotSupported`` instead.
    """

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        message = f"{path}.{name} {UNSUPPORTED}; {path} provides: {', '.join(sorted(provided))}"
        if _importing(sys._getframe(1)):
            raise ImportNotSupported(message)
        raise NotSupported(message)

    return __getattr__


def classes_in(module, base: type) -> dict[str, type]:
    """The public subclasses of ``base`` that ``module`` defines or re-exports, by name."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, base)
    }


def wrap_all(classes: dict[str, type]) -> dict[str, KerasClass]:
    return {name: KerasClass(cls, name) for name, cls in classes.items()}
