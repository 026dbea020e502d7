"""The Streamlit app: renders what the store holds (``sloctl dashboard``; from a checkout,
``streamlit run dashboard/app.py``)."""
