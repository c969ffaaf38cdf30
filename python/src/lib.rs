//! initc for Python.
