"""corGAN studio dashboard: ``streamlit run dashboard/app.py`` (opens on the embedded demo data)."""
import streamlit as st

from dashboard import warmup

st.set_page_config(page_title="corGAN studio", page_icon=":material/health_and_safety:", layout="wide")

from dashboard.auth import require_login  # noqa: E402 - after the page config, before any page runs

require_login()

PAGES = [
    st.Page("../pages/home.py", title="Start", icon=":material/home:", default=True),
    st.Page("../pages/data.py", title="Data", icon=":material/table_view:"),
    st.Page("../pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("../pages/fidelity.py", title="Fidelity", icon=":material/compare:"),
    st.Page("../pages/privacy.py", title="Privacy", icon=":material/shield_lock:"),
    st.Page("../pages/runs.py", title="Runs", icon=":material/list_alt:"),
    st.Page("../pages/cohorts.py", title="Cohorts", icon=":material/groups:"),
    st.Page("../pages/export.py", title="Export", icon=":material/download:"),
]

with st.sidebar:
    st.markdown("**corGAN studio**  \nSynthetic patient records: train a generator, then check how "
                "faithful and how private its patients are.")
    st.caption("Data → Train → Fidelity → Privacy → Export")

st.navigation(PAGES).run()
warmup.start()  # after the page is drawn: torch and scikit-learn load while the steward reads it
