"""Small Keras models, one or a few layer classes each, that tests/keras/layers/ records.

Each module of this package (one per group of layer classes: shape.py, conv.py, ...) defines
`MODELS`, a list of functions that each build and return a Keras model (functional or
Sequential, built: give it an input shape). The function's name is the fixture's name, so it
must be unique across modules. tools/record_keras.py imports every module here and records each
model into tests/keras/layers/ (tests/keras/functional/README.md describes the files);
tests/integration/keras_layers.rs compares initc with every recording there.
"""

import importlib
import pkgutil


def all_models():
    """Every module's MODELS, modules in name order."""
    models = []
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        models += importlib.import_module(f"{__name__}.{module}").MODELS
    names = [build.__name__ for build in models]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"two layer models share a name: {duplicates}"
    return models
