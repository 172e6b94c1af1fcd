"""Read-only store, no path from a URL reaches the filesystem, clear pages for missing or corrupt stores."""
import json
import sqlite3

import pytest

from perovscreen.dashboard.app import create_app
from perovscreen.dashboard.data import StoreError, connect_ro, load_results, read_inside


def _layout_text(app, path="/"):
    c = app.server.test_client()
    assert c.get("/").status_code == 200
    r = c.post("/_dash-update-component", json={
        "output": "..page.children...shown.data..",
        "outputs": [{"id": "page", "property": "children"}, {"id": "shown", "property": "data"}],
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "state": [{"id": "shown", "property": "data", "value": None}], "changedPropIds": ["url.pathname"]})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_connection_is_read_only(results):
    db = results / "perovscreen.db"
    before = db.read_bytes()
    con = connect_ro(db)
    with pytest.raises(sqlite3.OperationalError):
        con.execute("DELETE FROM runs")
    con.close()
    load_results(db)
    assert db.read_bytes() == before


def test_path_traversal_never_reaches_the_filesystem(results, tiny_ml_model):
    app = create_app(results / "perovscreen.db", tiny_ml_model)
    c = app.server.test_client()
    for bad in ("..%2F..%2F..%2Fetc%2Fpasswd.cif", "../../../../etc/passwd.cif", "%2Fetc%2Fpasswd.cif",
                "Li3OCl.cif%00.json", "....//....//etc/passwd.cif"):
        r = c.get("/download/" + bad)
        # refused by the download route, or (a client-normalised URL outside /download/) Dash's page shell
        assert (r.status_code == 404 or b"_dash-config" in r.data) and b"root:" not in r.data
    text = _layout_text(app, "/candidate/..%2F..%2F..%2Fetc%2Fpasswd")
    assert "No candidate with id" in text and "root:" not in text
    ok = c.get("/download/Li3OCl.cif")
    assert ok.status_code == 200 and b"_cell_length_a" in ok.data
    assert json.loads(c.get("/download/Li3OCl.json").data)["id"] == "Li3OCl"


def test_recorded_file_outside_the_store_is_not_read(results, tiny_ml_model):
    res = load_results(results / "perovscreen.db")
    res.by_id["Li3OCl"].file = "/etc/passwd"
    assert read_inside(res, "Li3OCl") is None
    res.by_id["LiNbO3"].file = str(results / "ranking.json")  # inside, but the hash does not match
    assert read_inside(res, "LiNbO3") is None


@pytest.mark.parametrize("kind", ["missing", "corrupt", "other"])
def test_missing_or_corrupt_store_gives_a_clear_page(tmp_path, kind):
    db = tmp_path / "perovscreen.db"
    if kind == "corrupt":
        db.write_bytes(b"this is not sqlite" * 100)
    elif kind == "other":
        sqlite3.connect(db).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(StoreError):
        load_results(db)
    text = _layout_text(create_app(db))
    assert "Cannot show these results" in text and "Traceback" not in text
