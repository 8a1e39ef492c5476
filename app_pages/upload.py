"""Upload: bring CRM exports in, check how their columns are read before anything is saved,
see what was loaded or rejected, place values Funnel could not map, and the upload history."""

from __future__ import annotations

import streamlit as st

from funnel import app_state, app_upload
from funnel import format as fmt
from funnel.errors import IngestError

st.title("Upload your CRM exports")
st.markdown(
    "Export your leads or deals from your CRM (HubSpot, Salesforce, Pipedrive, Zoho or a "
    "spreadsheet) as **CSV or Excel** and drop them here, several at once if you like. Weekly "
    "exports of the same CRM are snapshots: each one records how the deals moved since the "
    "last. E-mails and phone numbers are kept only as a hash; names are never stored."
)

round_no = st.session_state.setdefault("upload_round", 0)
files = st.file_uploader(
    "CSV or Excel files", type=app_upload.FILE_TYPES, accept_multiple_files=True,
    key=f"uploader_{round_no}",
)

plans = []
for upload in files or []:
    sha, path = app_upload.keep_file(upload.getvalue(), upload.name)
    with st.container(border=True):
        st.markdown(f"#### {upload.name}")
        try:
            detected = app_state.detect_upload(sha, str(path), upload.name)
        except IngestError as exc:
            app_upload.forget_file(path)
            st.error(exc.message, icon=":material/error:")
            continue
        st.markdown(f"Looks like an export from **{detected.source_label}**, with "
                    f"{len(detected.headers)} columns. Check which column feeds each field; "
                    "change any that is wrong, then load.")
        edited = st.data_editor(
            app_upload.mapping_table(detected),
            key=f"mapping_{sha[:16]}",
            hide_index=True,
            height=app_upload.EDITOR_ROW_PX * (len(app_upload.FIELD_LABELS) + 1) + 3,
            width="stretch",
            disabled=[app_upload.FIELD_COL],
            column_config={
                app_upload.FIELD_COL: st.column_config.TextColumn(width="medium"),
                app_upload.COLUMN_COL: st.column_config.SelectboxColumn(
                    options=app_upload.column_choices(detected), required=True, width="large",
                    help="The column of your file that holds this field.",
                ),
                app_upload.FIXED_COL: st.column_config.TextColumn(
                    width="medium",
                    help="Used where the file has no column for the field or the cell is "
                    "empty: e.g. a date (2024-01-31) for the date the lead came in, or 'won' "
                    "for the stage of a closed-deals export.",
                ),
            },
        )
        as_of = st.date_input(
            "Date the export was taken (leave empty to read it from the file)", value=None,
            key=f"as_of_{sha[:16]}", format="DD/MM/YYYY",
        )
        options, notes = app_upload.options_from_table(edited, detected, as_of)
        for note in notes:
            st.warning(note, icon=":material/warning:")
        plans.append((upload.name, path, options))

if plans:
    label = "Load this file" if len(plans) == 1 else f"Load these {len(plans)} files"
    if st.button(label, type="primary", icon=":material/upload:"):
        bar = st.progress(0.0, text="Starting…")
        results = []
        for number, (name, path, options) in enumerate(plans, start=1):
            bar.progress((number - 1) / len(plans), text=f"Loading {name} ({number} of "
                         f"{len(plans)})…")
            try:
                with app_state.writer() as cur:
                    result = app_upload.ingest(cur, path, options, name, app_state.db_path())
                results.append(app_upload.result_summary(result))
            except IngestError as exc:
                results.append({"file": name, "error": exc.message})
            app_upload.forget_file(path)
        bar.progress(1.0, text="Done")
        st.session_state["upload_results"] = results
        st.session_state["upload_round"] = round_no + 1
        st.rerun()

results = st.session_state.get("upload_results", [])
if results:
    st.header("What was loaded")
for result in results:
    with st.container(border=True):
        st.markdown(f"#### {result['file']}")
        if "error" in result:
            st.error(result["error"], icon=":material/error:")
            continue
        if result["already_ingested"]:
            st.info("This file was already loaded with the same settings: nothing changed.",
                    icon=":material/check_circle:")
        read, loaded, rejected, duplicate = st.columns(4)
        read.metric("Rows read", fmt.count(result["read"]))
        loaded.metric("Loaded", fmt.count(result["loaded"]))
        rejected.metric("Rejected", fmt.count(result["rejected"]))
        duplicate.metric("Duplicates", fmt.count(result["duplicate"]),
                         help="The same lead ID twice in the file: the later row counts.")
        st.caption(f"From {result['source']} · as of {fmt.date(result['as_of'])} · columns "
                   "used: " + ", ".join(f"{k} ← '{v}'" for k, v in result["mapping"].items()))
        if result["rejected"]:
            with app_state.reader() as cur:
                rejects = app_upload.rejected_rows(cur, result["upload_id"])
            with st.expander(f"See the {fmt.count(result['rejected'])} rejected rows"):
                st.dataframe(rejects, hide_index=True, width="stretch")
            st.download_button(
                "Download the rejected rows (CSV)", app_upload.rejected_csv(rejects),
                file_name=f"rejected_{result['file'].rsplit('.', 1)[0]}.csv",
                mime="text/csv", icon=":material/download:", key=f"rejects_{result['upload_id']}",
            )

with app_state.reader() as cur:
    channel_values, stage_values = app_upload.unmapped(cur)
    channel_map = app_upload.channel_targets(cur)
if len(channel_values) or len(stage_values):
    st.header("Values Funnel could not place")
    st.markdown("These channel or stage names from your files match no known channel or "
                "stage. Pick where each belongs and save: the leads already loaded move too, "
                "and future uploads use it.")
    channels_edit = st.data_editor(
        channel_values, key="unmapped_channels", hide_index=True, width="stretch",
        disabled=["Value in your file", "Leads", "Shown as"],
        column_config={
            "Map to channel": st.column_config.SelectboxColumn(options=list(channel_map)),
            "Kind (for a new channel)": st.column_config.SelectboxColumn(
                options=list(app_upload.KIND_CHOICES), required=True),
        },
    ) if len(channel_values) else channel_values
    stages_edit = st.data_editor(
        stage_values, key="unmapped_stages", hide_index=True, width="stretch",
        disabled=["Value in your file", "Leads", "Counted as"],
        column_config={"Map to stage": st.column_config.SelectboxColumn(
            options=list(app_upload.stage_targets()))},
    ) if len(stage_values) else stage_values
    if st.button("Save these mappings", icon=":material/save:"):
        with app_state.writer() as cur:
            saved = app_upload.save_mappings(cur, channels_edit, stages_edit, channel_map)
        st.session_state["mappings_saved"] = saved
        st.rerun()
if st.session_state.pop("mappings_saved", None):
    st.success("Mappings saved and applied to the leads already loaded.",
               icon=":material/check_circle:")

st.header("Upload history")
with app_state.reader() as cur:
    history = app_upload.upload_history(cur)
if history.empty:
    st.info("Nothing uploaded yet.", icon=":material/history:")
else:
    st.dataframe(history, hide_index=True, width="stretch")
