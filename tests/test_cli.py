"""tinytorch.cli: one-line errors with exit status 2, checked numbers, and run folders that never lose a run."""
import pytest

from tinytorch import cli


def parse(capsys, *argv):
    parser = cli.Parser(prog="prog")
    parser.add_argument("--steps", type=cli.integer(1))
    parser.add_argument("--batch", type=cli.integer(0, meaning="0: full batch"))
    parser.add_argument("--seed", type=cli.integer(0, 2 ** 32 - 1))
    parser.add_argument("--lr", type=cli.real(0, inclusive=False))
    parser.add_argument("--temperature", type=cli.real(0, meaning="0: greedy"))
    try:
        return parser.parse_args(argv)
    except SystemExit as e:
        err = capsys.readouterr().err
        assert e.code == 2 and err.count("\n") == 1
        return err


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "argument --steps: must be an integer >= 1, got 0"),
    (["--steps", "2.5"], "argument --steps: must be an integer >= 1, got '2.5'"),
    (["--batch", "-1"], "argument --batch: must be an integer >= 0 (0: full batch), got -1"),
    (["--seed", str(2 ** 32)], "argument --seed: must be an integer in 0..4294967295, got 4294967296"),
    (["--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--temperature", "-1"], "argument --temperature: must be a finite number >= 0 (0: greedy), got '-1'"),
    (["--temperature", "inf"], "argument --temperature: must be a finite number >= 0 (0: greedy), got 'inf'"),
    (["--colour", "\x1b[31mred"], "unrecognized arguments: --colour \\x1b[31mred"),
])
def test_bad_numbers_get_one_line_naming_the_flag_and_the_range(capsys, argv, message):
    assert parse(capsys, *argv) == f"prog: error: {message} (see --help)\n"


def test_good_numbers_parse(capsys):
    args = parse(capsys, "--steps", "3", "--batch", "0", "--lr", "1e-3", "--temperature", "0")
    assert (args.steps, args.batch, args.lr, args.temperature) == (3, 0, 1e-3, 0.0)


def test_exit_with_prints_one_escaped_line(capsys):
    with pytest.raises(SystemExit) as info:
        cli.exit_with(FileNotFoundError("no file 'a\nb\x1b[2J'"), "error")
    assert info.value.code == 2
    assert capsys.readouterr().err == "error: no file 'a b\\x1b[2J'\n"


RUN = ("ckpt.safetensors", "metrics.json")


def test_a_folder_holding_a_run_is_refused_without_resume_or_overwrite(tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match=r"already holds a run \(metrics\.json\); give --resume to continue it "
                                         r"or --overwrite to replace it"):
        cli.claim_run_folder(tmp_path, RUN, resume=False)
    with pytest.raises(ValueError, match="give --overwrite to replace it$"):
        cli.claim_run_folder(tmp_path, RUN)  # a command that cannot resume
    with pytest.raises(ValueError, match="not both"):
        cli.claim_run_folder(tmp_path, RUN, resume=True, overwrite=True)
    assert (tmp_path / "metrics.json").read_text() == "{}"


def test_resume_keeps_the_run_and_overwrite_deletes_it(tmp_path):
    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.claim_run_folder(tmp_path, RUN, resume=True) == tmp_path
    assert (tmp_path / "metrics.json").exists()
    cli.claim_run_folder(tmp_path, RUN, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # files of other programs stay


def test_claiming_a_new_folder_creates_it_and_removes_leftover_temporary_files(tmp_path):
    assert cli.claim_run_folder(tmp_path / "a" / "run", RUN).is_dir()
    leftover = tmp_path / ".ckpt.safetensors.999999999.0123abcd.tmp"  # no process has this id
    leftover.write_bytes(b"half a checkpoint")
    cli.claim_run_folder(tmp_path, RUN)
    assert not leftover.exists()
