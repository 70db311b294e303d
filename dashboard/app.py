"""The Concord control tower (`make dashboard`, http://127.0.0.1:8501): five role pages on the
served (published) copy. Run with `streamlit run dashboard/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES = Path(__file__).with_name("views")  # not pages/: Streamlit would list that folder too

st.set_page_config(page_title="Concord control tower", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "home.py", title="Control tower", default=True),
        st.Page(PAGES / "finance.py", title="Finance", url_path="finance"),
        st.Page(PAGES / "merchandising.py", title="Merchandising", url_path="merchandising"),
        st.Page(PAGES / "supply_chain.py", title="Supply chain", url_path="supply_chain"),
        st.Page(PAGES / "integration.py", title="Integration health", url_path="integration"),
        st.Page(PAGES / "exceptions.py", title="Exceptions", url_path="exceptions"),
    ]
)
navigation.run()
