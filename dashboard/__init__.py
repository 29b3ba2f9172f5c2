"""corGAN studio dashboard: shared state, forms, charts and widgets for the pages in ``pages/``.

Run it with ``streamlit run dashboard/app.py``. Nothing here imports torch; models are reached only
through ``corgan_core``.
"""
