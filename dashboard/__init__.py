"""The Streamlit dashboard: renders what the store holds (``streamlit run dashboard/app.py``)."""
