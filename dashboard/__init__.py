"""The Concord control tower: a Streamlit app with one page per role, on the served copy."""
