import json
import subprocess
import sys

import pytest

from perovscreen.cli.main import build_parser, main


def _subcommands(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield name, sub
                yield from _subcommands(sub)


def test_help_everywhere(capsys):
    parser = build_parser()
    names = [n for n, _ in _subcommands(parser)]
    assert {"ingest", "results", "export", "examples", "order", "demo"} <= set(names)
    for _, sub in _subcommands(parser):
        with pytest.raises(SystemExit) as e:
            sub.parse_args(["--help"])
        assert e.value.code == 0


def test_cli_ingest_json_and_export(tmp_path, capsys):
    assert main(["examples", "--write", str(tmp_path / "ex")]) == 0
    capsys.readouterr()
    db = str(tmp_path / "r.db")
    assert main(["ingest", str(tmp_path / "ex"), "--db", db, "--json", "-q"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 7 and {"id", "file", "status", "error"} <= set(rows[0])
    assert main(["results", "export", "--format", "csv", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("id,file,formula,identity,stage,status")
    assert len(out.strip().splitlines()) == 8


def test_order_command(tmp_path):
    main(["examples", "--write", str(tmp_path)])
    out = subprocess.run([sys.executable, "-m", "perovscreen", "order", str(tmp_path / "LLTO_disordered.cif"),
                          "--seed", "3", "-o", str(tmp_path / "o.cif")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["scaling"] == [3, 3, 3] and report["achieved_composition"]["La"] == 15
