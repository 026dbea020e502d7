"""Period, team and service: the sidebar's choices, kept in the URL so a link can be shared.

``bind`` before a widget takes the URL's value into the widget's state when the URL brings a
new one (a shared link, an email's link); ``publish`` after it writes the widget's value back
(Streamlit drops query parameters when the page changes: they come back on the next run).
A value the store does not know falls back to the default, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

ALL = ""  # the "every team" / "every service" choice


def _seen(name: str) -> str:
    return f"_url_{name}"


def bind(name: str, options: Sequence[str], default: str) -> str | None:
    """Set the state of widget ``name`` from the URL when the URL changed; returns a note when
    the URL's value is not one of ``options``."""
    wanted = st.query_params.get(name)
    note = None
    if wanted is not None and wanted != st.session_state.get(_seen(name)):
        if wanted in options:
            st.session_state[name] = wanted
        else:
            st.session_state[name] = default
            note = f"{name} {wanted!r} is not in the store; showing {default or 'all'}"
    elif st.session_state.get(name) not in options:
        st.session_state[name] = default
    return note


def publish(name: str, value: str | None, omit: str | None = ALL) -> None:
    """Write ``value`` into the URL (left out when it equals ``omit``)."""
    if value is None or value == omit:
        if name in st.query_params:
            del st.query_params[name]
    else:
        st.query_params[name] = value
    st.session_state[_seen(name)] = st.query_params.get(name)


def choose(label: str, name: str, options: Sequence[str], default: str, all_label: str = "",
           omit: str | None = ALL) -> str:
    """A sidebar select box bound to the URL parameter ``name``; its value."""
    note = bind(name, options, default)
    value: str = st.sidebar.selectbox(
        label, list(options), key=name,
        format_func=lambda v: all_label if v == ALL else v)
    if note:
        st.sidebar.caption(note)
    publish(name, value, omit)
    return value


def choose_on_page(label: str, name: str, options: Sequence[str], default: str) -> str:
    """A select box on the page bound to the URL parameter ``name`` (e.g. ``slo``)."""
    note = bind(name, options, default)
    value: str = st.selectbox(label, list(options), key=name)
    if note:
        st.caption(note)
    publish(name, value, omit=None)
    return value
