"""Uploaded data sets on the Data page: load one (its errors name the file the steward chose, and a
rejected upload is deleted at once), list the kept ones, delete them."""
from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from corgan_core.data import DataOptions
from corgan_core.data.upload import delete_upload, list_uploads, stage_upload
from corgan_core.errors import CorganError

from . import forms, state, widgets


def _named(message: str, staged: str, name: str) -> str:
    """The message with the internal staging path replaced by the uploaded file's own name."""
    folder = Path(staged).parent
    for prefix in (str(folder.resolve()), str(folder)):
        message = message.replace(prefix + "/", "")
    return message.replace(staged, name)


def load_upload(upload, options: DataOptions) -> tuple[str, str]:
    """Stage and load ``upload``; returns ``(path, label)``. A file that does not load is removed."""
    if upload is None:
        raise forms.missing("Choose a file to upload first.")
    root = state.uploads_folder()
    try:
        path = stage_upload(upload.name, upload, root, limit_bytes=st.get_option("server.maxUploadSize") * 1024**2)
    except CorganError as err:
        raise CorganError(_named(str(err), str(Path(root) / "x" / upload.name), upload.name)) from None
    try:
        state.load_data(path, options)
    except CorganError as err:
        delete_upload(path, root)
        raise CorganError(_named(str(err), path, upload.name)) from None
    return path, f"Upload: {upload.name}"


def manage() -> None:
    """The kept uploads, each with its size and a delete button."""
    kept = list_uploads(state.uploads_folder())
    with st.expander(f"Uploaded data sets kept on this server ({len(kept)})", expanded=bool(kept)):
        if not kept:
            st.caption("None: uploads that load are kept here (runs need their data to resume); "
                       "uploads that do not load are deleted at once.")
        in_use = state.data_choice()["path"]
        for u in kept:
            c = st.columns([4, 2, 1])
            c[0].markdown(f"**{u['name']}**" + (" (in use)" if u["path"] == in_use else ""))
            c[1].caption(f"{u['bytes'] / 1e6:.1f} MB, {time.strftime('%Y-%m-%d %H:%M', time.localtime(u['time']))}")
            if c[2].button("Delete", key=f"del-upload-{Path(u['folder']).name}", icon=":material/delete:",
                           disabled=u["path"] == in_use, help="Runs trained on it can no longer resume or evaluate."):
                with widgets.guarded("Deleting the upload"):
                    delete_upload(u["path"], state.uploads_folder())
                    st.toast(f"Deleted {u['name']}")
                    st.rerun()
