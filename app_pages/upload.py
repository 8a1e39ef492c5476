"""Upload: bring CRM exports in, check how their columns are read before anything is saved,
see what was loaded or rejected, place values Funnel could not map, and the upload history."""

from __future__ import annotations

import streamlit as st

from funnel import format as fmt
from funnel.app import allocation as app_allocation
from funnel.app import state as app_state
from funnel.app import ui as app_ui
from funnel.app import upload as app_upload
from funnel.errors import IngestError
from funnel.safe_text import md_text

# File names, column names and cell values come from the files: shown through Markdown (titles,
# alerts, captions, labels) they go through md_text, so they show as typed and nothing in them
# links, loads or styles anything (docs/SECURITY.md). Tables (st.dataframe, app_ui.table) show
# plain text.

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



def _preview(prev) -> None:
    """What loading the file as mapped above will do: what stops it first, with the fix on
    this page, then the counts, the reasons, and how each column's cells are read."""
    st.markdown("##### What loading it will do")
    if prev.problem:
        st.error("This file cannot be loaded as it is: " + md_text(prev.problem),
                 icon=":material/block:")
    fix = app_upload.fix_words(prev.fixes)
    if fix:
        (st.warning if prev.problem else st.info)(fix, icon=":material/lightbulb:")
    if prev.already_ingested:
        st.info("This file was already loaded with these settings: loading it again changes "
                "nothing.", icon=":material/check_circle:")
    elif prev.replaces:
        st.info("This file was loaded before with other settings: loading it now replaces "
                "what it said then.", icon=":material/published_with_changes:")
    if prev.read:
        load, reject, dup, warn = st.columns(4)
        load.metric("Rows that will load", fmt.count(prev.loaded))
        reject.metric("Rows that will be rejected", fmt.count(prev.rejected))
        dup.metric("Duplicate rows", fmt.count(prev.duplicate))
        warn.metric("Cells that will read as unknown", fmt.count(prev.warnings))
    if prev.reject_reasons:
        st.markdown("Why rows will be rejected:\n"
                    + "\n".join(app_upload.reason_lines(prev.reject_reasons, "rows")))
    if prev.warning_reasons:
        st.markdown("Why cells will be read as unknown (their rows still load):\n"
                    + "\n".join(app_upload.reason_lines(prev.warning_reasons, "cells")))
    readings = app_upload.readings_table(prev)
    if len(readings):
        st.caption("How Funnel will read your columns (their commonest values):")
        st.dataframe(readings, hide_index=True, width="stretch")


plans, blocked = [], []
# Each upload is copied to a private temp folder for this run only: the copies are deleted when
# the block ends, whatever ends it (loaded, refused, an error, the tab closed mid-load).
with app_upload.temp_copies() as keep:
    for upload in files or []:
        sha, path = keep(upload.getvalue(), upload.name)
        with st.container(border=True):
            st.markdown(f"#### {md_text(upload.name)}")
            try:
                detected = app_upload.detect_kept(sha, path, upload.name)
            except IngestError as exc:
                st.error(md_text(exc.message), icon=":material/error:")
                continue
            st.markdown(f"Looks like an export from **{md_text(detected.source_label)}**, with "
                        f"{len(detected.headers)} columns. Check which column feeds each field; "
                        "change any that is wrong (pick **(not in this file)** to leave a "
                        "column out), then load.")
            with app_state.reader() as cur:
                saved = app_upload.saved_mapping(cur, detected)
            editor_key = f"mapping_{sha[:16]}" + ("_saved" if saved else "")
            if saved:
                note, reset = st.columns([4, 1], vertical_alignment="center")
                note.info(app_upload.saved_words(saved), icon=":material/bookmark:")
                if reset.button("Reset", key=f"reset_{sha[:16]}", icon=":material/restart_alt:",
                                help="Forget your saved mapping for files with these columns "
                                "and start again from what Funnel detects."):
                    with app_state.writer() as cur:
                        app_upload.forget_mapping(cur, detected)
                    st.session_state.pop(editor_key, None)
                    st.rerun()
            edited = st.data_editor(
                app_upload.mapping_table(detected, saved),
                key=editor_key,
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
            no_means_open = False
            if app_upload.yes_no_outcome(edited):
                reading = st.radio(
                    "This file's only outcome is a yes/no column. A lead marked 'no' is:",
                    ["Lost", "Still open"], key=f"no_means_{sha[:16]}", horizontal=True,
                    index=1 if saved and saved.no_means_open else 0,
                    help="Most lead lists mark a lead 'no' once it did not buy: lost. Choose "
                    "'still open' if 'no' only means 'not yet'.",
                )
                no_means_open = reading == "Still open"
            options, notes = app_upload.options_from_table(edited, detected, as_of, no_means_open)
            for note in notes:
                st.warning(md_text(note), icon=":material/warning:")
            with st.spinner(f"Reading {md_text(upload.name)} as it would be loaded…"):
                prev = app_upload.preview_kept(sha, path, upload.name, options)
            _preview(prev)
            if prev.usable:
                plans.append((upload.name, path, options, detected))
            else:
                blocked.append(upload.name)

    if plans or blocked:
        count = len(plans) or len(blocked)
        label = "Load this file" if count == 1 else f"Load these {count} files"
        if blocked:
            st.caption("Not loaded until fixed as said above: "
                       + ", ".join(md_text(n) for n in blocked) + ".")
        if st.button(label, type="primary", icon=":material/upload:", disabled=not plans):
            bar = st.progress(0.0, text="Starting…")
            # kept as each file finishes: a run cut short (the tab closed, an error) still shows
            # the files loaded, and their previews then say "already loaded"
            results = st.session_state["upload_results"] = []
            for number, (name, path, options, detected) in enumerate(plans, start=1):
                bar.progress((number - 1) / len(plans), text=f"Loading {md_text(name)} ({number} "
                             f"of {len(plans)})…")
                try:
                    with app_state.writer() as cur:
                        result = app_upload.ingest(cur, path, options, name, app_state.db_path())
                        app_upload.remember_mapping(cur, detected, options, name)
                    results.append(app_upload.result_summary(result))
                except IngestError as exc:
                    results.append(app_upload.error_summary(name, exc))
            bar.progress(1.0, text="Done")
            st.session_state["upload_round"] = round_no + 1
            st.rerun()



def _paged_rows(result: dict, which: str, kept: int) -> None:
    """One page of an upload's rejected rows or warned cells, the page picker and the CSV of
    all it kept (issue 16, item 10: never a table of every row on each rerun)."""
    upload_id, total = result["upload_id"], result["rejected" if which == "rejected" else
                                                        "warnings"]
    pages = app_upload.pages(kept)
    page = 1
    if pages > 1:
        page = st.number_input(f"Page (of {fmt.count(pages)}, "
                               f"{fmt.count(app_upload.PAGE_ROWS)} rows a page)",
                               min_value=1, max_value=pages, value=1, step=1,
                               key=f"{which}_page_{upload_id}")
    with app_state.reader() as cur:
        shown = (app_upload.rejected_rows if which == "rejected" else app_upload.cell_warnings)(
            cur, upload_id, page=int(page))
    st.dataframe(shown, hide_index=True, width="stretch")
    if total > kept:
        st.caption(f"Funnel keeps the first {fmt.count(kept)} of the {fmt.count(total)}: "
                   "enough to see what went wrong and fix it in the file.")
    words = "rejected rows" if which == "rejected" else "cells read as unknown"
    stem = result["file"].rsplit(".", 1)[0]
    st.download_button(
        f"Download the {words} (CSV)", app_upload.rows_download(upload_id, which),
        file_name=f"{'rejected' if which == 'rejected' else 'unknown_cells'}_{stem}.csv",
        mime="text/csv", icon=":material/download:", key=f"{which}_{upload_id}",
    )


results = st.session_state.get("upload_results", [])
if results:
    st.header("What was loaded")
for result in results:
    with st.container(border=True):
        st.markdown(f"#### {md_text(result['file'])}")
        if "error" in result:
            st.error(md_text(result["error"]), icon=":material/error:")
            if result.get("fix"):
                st.info(result["fix"], icon=":material/lightbulb:")
            continue
        if result.get("replaced"):
            st.info("This file was loaded before with other settings: what it said then was "
                    "replaced by what it says now.", icon=":material/published_with_changes:")
        if result["already_ingested"]:
            st.info("This file was already loaded with the same settings: nothing changed.",
                    icon=":material/check_circle:")
        read, loaded, rejected, duplicate, warned = st.columns(5)
        read.metric("Rows read", fmt.count(result["read"]))
        loaded.metric("Loaded", fmt.count(result["loaded"]))
        rejected.metric("Rejected", fmt.count(result["rejected"]),
                        help="Rows that say nothing about which lead they are (no ID, or no "
                        "date the lead came in for a lead not loaded before).")
        duplicate.metric("Duplicates", fmt.count(result["duplicate"]),
                         help="The same lead ID twice in the file: the later row counts.")
        warned.metric("Cells read as unknown", fmt.count(result.get("warnings", 0)),
                      help="Cells that could not be read (an amount 'N/A', a date that is no "
                      "date): the row is loaded with that field unknown.")
        if result.get("outcome"):
            st.caption(md_text(result["outcome"]))
        for note in result.get("notes", []):
            st.info(md_text(note), icon=":material/info:")
        st.caption(f"From {md_text(result['source'])} · as of {fmt.date(result['as_of'])} · "
                   "columns used: " + ", ".join(f"{k} ← '{md_text(v)}'"
                                               for k, v in result["mapping"].items()))
        if result["rejected"] or result.get("warnings"):
            with app_state.reader() as cur:
                kept_rejects, kept_warnings = app_upload.kept_counts(cur, result["upload_id"])
        if result["rejected"]:
            with st.expander(f"See the {fmt.count(result['rejected'])} rejected rows"):
                _paged_rows(result, "rejected", kept_rejects)
        if result.get("warnings"):
            with st.expander(f"See the {fmt.count(result['warnings'])} cells read as unknown"):
                _paged_rows(result, "warnings", kept_warnings)

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

st.header("How your channel and stage names are counted")
with app_state.reader() as cur:
    synonyms_shown = app_upload.synonyms_view(cur)
    channel_choices = app_upload.channel_targets(cur)
if synonyms_shown.empty:
    st.info("No channel or stage names stored yet: load a file first.", icon=":material/label:")
else:
    st.markdown("Every channel and stage name in your files, what Funnel counts it as, and "
                "who decided: Funnel's defaults or you. Change one and the leads already loaded "
                "move at once; undo puts back what it was.")
    st.dataframe(synonyms_shown, hide_index=True, width="stretch", height=320)
    pick, target_col = st.columns(2)
    chosen = pick.selectbox("Name in your files", list(synonyms_shown.index),
                            key="synonym_choice")
    is_channel = chosen.startswith(app_upload.KIND_WORDS["channel"])
    targets = list(channel_choices) if is_channel else list(app_upload.stage_targets())
    current = synonyms_shown.loc[chosen, "Counted as"]
    target = target_col.selectbox("Count it as", targets, key="synonym_target",
                                  index=targets.index(current) if current in targets else 0)
    save_col, undo_col = st.columns(2)
    if save_col.button("Save and apply to stored leads", icon=":material/save:",
                       key="synonym_save"):
        with app_state.writer() as cur:
            moved = app_upload.change_synonym(cur, chosen, target, channel_choices)
        st.session_state["synonym_done"] = (f"{md_text(chosen)} is now counted as "
                                            f"{md_text(target)}: {fmt.count(moved)} stored "
                                            "leads moved.")
        st.rerun()
    if undo_col.button("Undo its last change", icon=":material/undo:", key="synonym_undo"):
        with app_state.writer() as cur:
            undone = app_upload.undo_synonym(cur, chosen)
        st.session_state["synonym_done"] = (
            f"No change of {md_text(chosen)} to undo." if undone is None else
            f"{md_text(chosen)} is counted as before: {fmt.count(undone['leads'])} stored leads "
            "moved back.")
        st.rerun()
if done := st.session_state.pop("synonym_done", None):
    st.success(done, icon=":material/check_circle:")

st.header("Marketing spend (money and hours per channel)")
st.markdown(
    "For the Allocation page: a CSV or Excel file with one row per channel and week (or month): "
    "the **channel**, the **period start** (e.g. 'Week starting' or 'Month') and the **money** "
    "(e.g. 'Amount spent', 'Cost', 'Budget') and/or **hours** spent. Rows of one channel and "
    "period are added up; a channel and period stored before is replaced, so a corrected file "
    "can simply be loaded again. No file? Type this week's figures on the Allocation page, or "
    "start from the template."
)
with app_state.reader() as cur:
    template = app_allocation.spend_template_csv(cur, app_state.as_of())
st.download_button("Download a spend template (your channels, recent weeks)", template,
                   file_name="spend_template.csv", mime="text/csv",
                   icon=":material/download:", key="spend_template")
spend_round = st.session_state.setdefault("spend_round", 0)
spend_file = st.file_uploader("Spend file (CSV or Excel)", type=app_upload.FILE_TYPES,
                              key=f"spend_uploader_{spend_round}")
if spend_file is not None:
    with app_upload.temp_copies() as keep, st.container(border=True):
        spend_sha, spend_path = keep(spend_file.getvalue(), spend_file.name)
        st.markdown(f"#### {md_text(spend_file.name)}")
        try:
            with app_state.reader() as cur:
                spend_headers, spend_found = app_allocation.detect_spend(cur, spend_path,
                                                                         spend_file.name)
        except IngestError as exc:
            spend_headers, spend_found = [], {}
            st.error(md_text(exc.message), icon=":material/error:")
        spend_edit = st.data_editor(
            app_allocation.spend_mapping_table(spend_found),
            key=f"spend_mapping_{spend_sha[:16]}", hide_index=True, width="stretch",
            disabled=["Field"],
            column_config={app_allocation.SPEND_COLUMN_COL: st.column_config.SelectboxColumn(
                options=[app_allocation.NO_SPEND_COLUMN, *spend_headers], required=True)},
        )
        edited_columns = app_allocation.spend_columns_from(spend_edit)
        try:
            with app_state.writer() as cur:  # rolled back: nothing is stored yet
                spend_preview = app_allocation.load_spend_file(
                    cur, spend_path, spend_file.name, edited_columns, dry_run=True)
        except IngestError as exc:
            spend_preview = {"error": exc.message}
        if "error" in spend_preview:
            st.error("This file cannot be loaded as it is: " + md_text(spend_preview["error"])
                     + " Pick the columns in the table above.", icon=":material/block:")
        else:
            will_load, will_reject, money_col, hours_col = st.columns(4)
            will_load.metric("Spend rows that will count", fmt.count(spend_preview["loaded"]))
            will_reject.metric("Spend rows that will be rejected",
                               fmt.count(len(spend_preview["rejected"])))
            money_col.metric("Money in all", spend_preview["money"])
            hours_col.metric("Hours in all", spend_preview["hours"])
            st.caption(md_text(spend_preview["summary"]))
            if spend_preview["rejected"]:
                st.dataframe(spend_preview["rejected"], hide_index=True, width="stretch")
        if st.button("Load this spend file", type="primary", icon=":material/payments:",
                     disabled="error" in spend_preview):
            try:
                with app_state.writer() as cur:
                    loaded_spend = app_allocation.load_spend_file(
                        cur, spend_path, spend_file.name, edited_columns)
            except IngestError as exc:
                loaded_spend = {"file": spend_file.name, "error": exc.message}
            st.session_state["spend_result"] = loaded_spend
            st.session_state["spend_round"] = spend_round + 1
            st.rerun()

spend_result = st.session_state.get("spend_result")
if spend_result:
    with st.container(border=True):
        st.markdown(f"#### {md_text(spend_result['file'])}")
        if "error" in spend_result:
            st.error(md_text(spend_result["error"]), icon=":material/error:")
        else:
            read_col, loaded_col, rejected_col = st.columns(3)
            read_col.metric("Spend rows read", fmt.count(spend_result["read"]))
            loaded_col.metric("Spend rows loaded", fmt.count(spend_result["loaded"]))
            rejected_col.metric("Spend rows rejected", fmt.count(len(spend_result["rejected"])))
            st.caption(md_text(spend_result.get("summary", "")) + " Columns used: " + ", ".join(
                f"{k} ← '{md_text(v)}'" for k, v in spend_result["columns"].items()))
            if spend_result["rejected"]:
                st.dataframe(spend_result["rejected"], hide_index=True, width="stretch")

stored_spend = app_allocation.spend_table()
if stored_spend.empty:
    st.info("No spend stored yet: the Allocation page needs it to know what each channel "
            "costs.", icon=":material/payments:")
else:
    with st.expander(f"See or correct the stored spend ({fmt.count(len(stored_spend))} rows)"):
        st.caption("Change money or hours in place and save; a row's channel and dates come "
                   "from the spend file (load a corrected file to change those).")
        spend_edit = st.data_editor(
            stored_spend, key="spend_editor", hide_index=True, width="stretch", height=420,
            disabled=["Channel", "From", "To", "Leads that period"],
            column_config={
                "channel": None,
                "From": st.column_config.DateColumn(format="D MMM YYYY"),
                "To": st.column_config.DateColumn(format="D MMM YYYY"),
                "Money ($)": st.column_config.NumberColumn(min_value=0.0, format="$%.2f"),
                "Hours": st.column_config.NumberColumn(min_value=0.0, format="%.2f"),
            },
        )
        changed = app_allocation.changed_spend(stored_spend, spend_edit)
        label = ("Save the changes" if changed.empty
                 else f"Save {fmt.count(len(changed))} changed row{'s' * (len(changed) != 1)}")
        if st.button(label, icon=":material/save:", disabled=changed.empty):
            with app_state.writer() as cur:
                st.session_state["spend_result"] = app_allocation.save_spend_edits(cur, changed)
            del st.session_state["spend_editor"]
            st.rerun()

st.header("Upload history")
with app_state.reader() as cur:
    history = app_upload.upload_history(cur)
if history.empty:
    st.info("Nothing uploaded yet.", icon=":material/history:")
else:
    app_ui.table(history)  # wraps: a long file name no longer pushes columns off the page
    with st.expander("Take an upload out"):
        st.caption("The store ends as if that file had never been loaded; every other upload "
                   "still counts, in order. Its rows are read again from the copies Funnel "
                   "keeps, so this can take as long as loading them did.")
        choices = {int(r["Upload"]): f"{r['Upload']}: {r['File']} (as of {r['As of']})"
                   for _, r in history.iterrows()}
        chosen = st.selectbox("Upload", list(choices), format_func=choices.get,
                              key="remove_choice")
        if st.button("Remove this upload", icon=":material/delete:", key="remove_upload"):
            try:
                with app_state.writer() as cur:
                    removed = app_upload.remove_upload(cur, int(chosen), app_state.db_path())
                st.session_state["upload_removed"] = removed["file_name"]
            except IngestError as exc:
                st.session_state["upload_removed_error"] = exc.message
            st.rerun()
if name := st.session_state.pop("upload_removed", None):
    st.success(f"Removed {md_text(name)}: the other uploads were read again in order.",
               icon=":material/check_circle:")
if message := st.session_state.pop("upload_removed_error", None):
    st.error(md_text(message), icon=":material/error:")
