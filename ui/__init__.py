"""MLP Lab's Streamlit views: one module per view or job; `app.py` only composes them.

Pure helpers (charts, metrics, presets, the sidebar's value <-> config mapping, the training job)
work without a Streamlit runtime, so unit tests import them directly.
"""
