"""One slug, one definition (issue 13): a synonym the owner saves for a raw value re-maps the
leads that carry it, whatever characters the value holds, because the key is computed by the
store's own ``funnel_slug`` macro, never a look-alike written again in Python."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.ingest import synonym_edits
from funnel.store import connection as store


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("slug") / "slug.duckdb")
    yield con
    con.close()


def test_compatibility_forms_read_as_the_plain_letters(mem):
    # full-width letters, a ligature and a fraction, as pasted from a spreadsheet (the three the
    # issue found: Python read them one way, SQL another, so a saved synonym re-mapped nothing)
    got = mem.execute(
        "SELECT funnel_slug('Ｗｅｂ'), funnel_slug('ﬁnance'), funnel_slug('½ price')"
    ).fetchone()
    assert got == ("web", "finance", "1_2_price")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()))
def test_a_saved_synonym_re_maps_the_leads_of_its_value(mem, raw):
    key = mem.execute("SELECT funnel_slug($r)", {"r": raw}).fetchone()[0]
    if not key:  # nothing a slug can hold (only punctuation): nothing to map
        with pytest.raises(ValueError):
            synonym_edits.save_channel_synonym(mem, raw, "referral")
        return
    mem.execute("DELETE FROM leads")
    mem.execute(
        "INSERT INTO leads (lead_key, channel, channel_raw, created_at, stage, first_upload_id,"
        " last_upload_id) VALUES ('k', 'not_yet_mapped', $raw, TIMESTAMP '2026-01-05', 'new',"
        " 1, 1)",
        {"raw": raw},
    )
    assert synonym_edits.save_channel_synonym(mem, raw, "referral") == 1
    assert mem.execute("SELECT channel FROM leads").fetchone() == ("referral",)


# --- issue 14, item 4: every synonym seen, changed, undone, on the CLI too ----------------------

ZOHO_LIKE = (
    "Lead ID,Lead Source,Created Date,Lead Status\n"
    "z1,Web Research,2026-11-02,Not Contacted\n"
    "z2,Web Research,2026-11-03,Not Contacted\n"
    "z3,web research,2026-11-03,Initial Offer\n"
    "z4,NC_EDM,2026-11-04,Contacted\n"
)


def zoho_like_store(tmp_path, db_path):
    from funnel.ingest.upload import ingest_file

    path = tmp_path / "leads.csv"
    path.write_text(ZOHO_LIKE, encoding="utf-8")
    con = store.connect(db_path)
    ingest_file(con, path, db_path=db_path)
    return con


def table_row(con, kind: str, slug: str) -> tuple:
    table = synonym_edits.synonym_table(con)
    row = table[(table["kind"] == kind) & (table["raw_slug"] == slug)].iloc[0]
    return row["target"], row["decided_by"], int(row["leads"])


def channel_counts(con) -> dict[str, int]:
    return dict(con.execute("SELECT channel, count(*) FROM leads GROUP BY 1").fetchall())


def test_every_value_is_listed_changed_and_undone(tmp_path, db_path):
    con = zoho_like_store(tmp_path, db_path)
    try:
        # 'Web Research' and 'web research' are one value: 3 leads (z1, z2, z3), SPEC default
        assert table_row(con, "channel", "web_research") == ("organic_search", "default", 3)
        # NC_EDM is no synonym: kept as its own channel, labelled as written
        assert table_row(con, "channel", "nc_edm") == ("nc_edm", "none", 1)
        assert con.execute("SELECT label FROM channels WHERE channel = 'nc_edm'").fetchone() == (
            "NC EDM",)
        assert table_row(con, "stage", "not_contacted") == ("new", "default", 2)
        assert table_row(con, "stage", "initial_offer") == ("new", "none", 1)

        assert synonym_edits.save_channel_synonym(con, "Web Research", "referral") == 3
        assert table_row(con, "channel", "web_research") == ("referral", "user", 3)
        assert channel_counts(con)["referral"] == 3
        # a mapped stage re-mapped: the 2 leads it placed at New move to Contacted
        assert synonym_edits.save_stage_synonym(con, "Not Contacted", "contacted") == 2
        assert table_row(con, "stage", "not_contacted") == ("contacted", "user", 2)
        stages = dict(con.execute("SELECT stage, count(*) FROM leads GROUP BY 1").fetchall())
        assert stages == {"contacted": 3, "new": 1}  # z1, z2 + z4; z3 still new

        assert synonym_edits.undo(con, "channel", "web research") == {
            "target": "organic_search", "leads": 3}
        assert table_row(con, "channel", "web_research") == ("organic_search", "default", 3)
        assert "referral" not in channel_counts(con)
        assert synonym_edits.undo(con, "stage", "Not Contacted")["leads"] == 2
        assert table_row(con, "stage", "not_contacted") == ("new", "default", 2)
        assert synonym_edits.undo(con, "stage", "Not Contacted") is None  # nothing left
        # an owner's first mapping of an unmapped value, undone: mapped to nothing again
        synonym_edits.save_channel_synonym(con, "NC_EDM", "email")
        assert synonym_edits.undo(con, "channel", "NC_EDM") == {"target": None, "leads": 1}
        assert table_row(con, "channel", "nc_edm") == ("nc_edm", "none", 1)
    finally:
        con.close()


def test_the_map_command_lists_changes_and_undoes(tmp_path, db_path, capsys):
    import json

    from funnel.cli.main import main

    zoho_like_store(tmp_path, db_path).close()
    assert main(["map", "channel", "Web Research=referral", "--db", str(db_path)]) == 0
    assert "3 stored leads moved" in capsys.readouterr().out
    assert main(["map", "--list", "--json", "--db", str(db_path)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    web = [r for r in rows if r["kind"] == "channel" and r["maps_to"] == "referral"]
    assert web == [{"kind": "channel", "raw_value": "Web Research", "maps_to": "referral",
                    "decided_by": "user", "leads": 3}]
    assert main(["map", "--list", "--db", str(db_path)]) == 0
    assert "'Web Research' -> Referral (you; 3 leads)" in capsys.readouterr().out
    assert main(["map", "--undo", "channel", "Web Research", "--db", str(db_path)]) == 0
    assert "maps to organic_search again" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        main(["map", "channel", "no equals sign", "--db", str(db_path)])
    assert usage.value.code == 2
